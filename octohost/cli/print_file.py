"""``octohost print FILE``: stream a file to the printer without the server, with a progress line.

Same comm layer and plugins as the daemon. Exit 0 once the printer acknowledged the last line,
1 when the print failed once started (the message says why), 2 for bad usage and for a port that
cannot be opened or a printer that does not answer, 130 when interrupted. Each error is one
``Error:`` line on stderr; the comm layer's log (with any traceback) goes to the log file.
"""

import sys
import threading
import time

import click

from octohost.comm.callback import CommCallback

from .context import fail, pass_cli

WINDOW_MODES = ("ping-pong", "rx-bytes", "advanced-ok")


class _Outcome(CommCallback):
    """What the comm layer reported, for the main thread to wait on."""

    def __init__(self):
        self.done = threading.Event()
        self.connected = threading.Event()
        self.error = None
        self.finished = False

    def on_comm_state_change(self, state):
        if state == "OPERATIONAL":
            self.connected.set()

    def on_comm_error(self, message):
        self.error = message
        self.connected.set()
        self.done.set()

    def on_comm_print_job_done(self, suppress_script=False):
        self.finished = True
        self.done.set()

    def on_comm_print_job_failed(self, reason):
        self.error = self.error or reason
        self.done.set()

    def on_comm_print_job_cancelled(self, suppress_script=False, user=None, reason=None):
        self.error = self.error or reason or "the print was cancelled"
        self.done.set()


def _duration(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class _Progress:
    """One status line on stderr: lines, percent, rate, ETA; redrawn in place on a terminal."""

    def __init__(self, stream, size):
        self.stream = stream
        self.size = size or 1
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last_print = 0.0

    def update(self, lines, acked_bytes, final=False):
        now = time.monotonic()
        if not final and now - self.last_print < (0.25 if self.tty else 2.0):
            return
        self.last_print = now
        elapsed = max(now - self.started, 1e-6)
        fraction = min(1.0, (acked_bytes or 0) / self.size)
        rate = lines / elapsed
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        text = (f"{lines:>9,} lines  {fraction * 100:5.1f}%  {rate:8,.0f} lines/s  "
                f"ETA {_duration(eta) if eta is not None else '--:--:--'}")
        if self.tty:
            self.stream.write("\r" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()


@click.command("print")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--port", help="Port of the printer (device path, socket:// URL, VIRTUAL, AUTO); default: serial.port.")
@click.option("--baudrate", type=click.IntRange(min=0), help="Baud rate, 0 to detect; default: serial.baudrate.")
@click.option("--window", type=click.Choice(WINDOW_MODES), help="Lines in flight; default: serial.window.")
@click.option("--rx-buffer", type=click.IntRange(min=16),
              help="Firmware receive buffer in bytes, for --window rx-bytes.")
@click.option("--quiet", is_flag=True, help="No progress line.")
@pass_cli
def print_file(cli, file, port, baudrate, window, rx_buffer, quiet):
    """Stream FILE to the printer headless and wait until it acknowledged every line."""
    import os

    from octohost.comm.machine import MachineCom
    from octohost.logs import setup_logging

    if not os.path.isfile(file):
        fail(f"{file}: no such file")
    settings = cli.settings
    setup_logging(settings, console=False)
    port = port or settings.get("serial.port") or "AUTO"
    baudrate = settings.get("serial.baudrate") if baudrate is None else baudrate
    options = {}
    if window:
        options["window"] = window
    if rx_buffer:
        options["rx_buffer_size"] = rx_buffer
    outcome = _Outcome()
    comm = MachineCom(port, baudrate, outcome, settings, cli.plugin_manager(), options=options)
    try:
        sys.exit(_run(comm, outcome, os.path.abspath(file), quiet))
    except KeyboardInterrupt:
        click.echo("\nInterrupted: cancelling the print and disconnecting.", err=True)
        comm.cancel_print()
        comm.close()
        sys.exit(130)


def _run(comm, outcome, path, quiet):
    comm.connect()
    outcome.connected.wait()
    if outcome.error or not comm.is_operational():
        comm.close()
        fail(outcome.error or comm.get_state_string())
    comm.select_file(path, False)
    if not comm.start_print():
        comm.close()
        click.echo(f"Error: the printer is not ready to print ({comm.get_state_string()})", err=True)
        return 1
    progress = None if quiet else _Progress(sys.stderr, comm.get_job_status()["size"])
    while not outcome.done.wait(0.25):
        if progress is not None:
            progress.update(comm.sender.acked_lines, comm.get_job_status()["acked_filepos"])
    status = comm.get_job_status()
    if progress is not None:
        progress.update(comm.sender.acked_lines, status["acked_filepos"], final=True)
    stats = comm.resend_stats()
    comm.close()
    if not outcome.finished:
        click.echo(f"Error: {outcome.error}", err=True)
        return 1
    elapsed = status["print_time"] or 0.0
    click.echo(f"Printed {path}: {comm.sender.acked_lines:,} lines in {elapsed:.2f} s, "
               f"{stats['count']} resends.", err=True)
    return 0
