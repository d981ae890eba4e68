"""``octohost virtual``: run the virtual printer for any host program, or talk to it from a terminal."""

import os
import signal
import sys
import threading
import time

import click
import serial

from .context import fail, pass_cli


def _rate(ctx, param, value):
    if value is not None and not 0.0 <= value <= 1.0:
        raise click.BadParameter("must be between 0 and 1")
    return value


@click.command("virtual")
@click.option("--pty", "use_pty", is_flag=True,
              help="Serve on a pseudo-terminal: print its path as the first line, then serve until SIGINT/SIGTERM.")
@click.option("--link", "link", type=click.Path(dir_okay=False),
              help="With --pty: keep a symlink at this path pointing at the pty (a stable port name across restarts).")
@click.option("--replug-after", type=click.FloatRange(min=0),
              help="With --pty: after an unplug (!!DEBUG:unplug), serve a new pty (under --link) after this many "
                   "seconds.")
@click.option("--seed", type=int, help="Seed of the fault injection.")
@click.option("--checksum-error-rate", type=float, callback=_rate,
              help="Fraction of numbered lines answered with a checksum error.")
@click.option("--lost-ok-rate", type=float, callback=_rate, help="Fraction of oks silently dropped.")
@click.option("--missing-line-number-rate", type=float, callback=_rate,
              help="Fraction of numbered lines answered with 'No Line Number with checksum'.")
@click.option("--reset-after-lines", type=click.IntRange(min=1),
              help="Reset the firmware once after this many accepted lines.")
@click.option("--disconnect-after-lines", type=click.IntRange(min=1), help="Hang up after this many accepted lines.")
@click.option("--advanced-ok/--no-advanced-ok", default=None, help="Answer 'ok N.. P.. B..'.")
@click.option("--flush-rx-on-error/--no-flush-rx-on-error", default=None,
              help="After a bad line, drop unanswered what waits in the RX buffer, as Marlin does.")
@click.option("--busy/--no-busy", "busy_protocol", default=None, help="Send 'busy: processing' during long commands.")
@click.option("--rx-buffer", type=click.IntRange(min=0), help="Firmware RX buffer in bytes; 0: unlimited.")
@click.option("--ok-delay", type=click.FloatRange(min=0), help="Seconds before each ok.")
@click.option("--time-scale", type=click.FloatRange(min=0, min_open=True),
              help="Run simulated time this many times faster.")
@click.option("--heat-rate", type=click.FloatRange(min=0, min_open=True),
              help="Degrees C per simulated second heaters move.")
@click.option("--extruders", "extruder_count", type=click.IntRange(min=1), help="Number of extruders.")
@click.option("--sd-file", "sd_files", type=click.Path(exists=True, dir_okay=False), multiple=True,
              help="Put this file on the virtual SD card (repeatable).")
@click.option("--firmware-name", help="Firmware name in the M115 report.")
@pass_cli
def virtual(cli, use_pty, link, replug_after, rx_buffer, sd_files, **overrides):
    """A Marlin-like virtual printer: on a pseudo-terminal with --pty, else on stdin/stdout.

    Options default to the serial.virtual settings.
    """
    from octohost.comm.virtual import VirtualPrinter, options_from_settings, serve_pty

    try:
        options = options_from_settings(cli.settings, **overrides)
    except (TypeError, ValueError) as exc:
        fail(f"invalid virtual printer settings: {exc}")
    if rx_buffer is not None:
        options.rx_buffer_size = rx_buffer or None
    for path in sd_files:
        with open(path, "rb") as f:
            options.sd_files[os.path.basename(path)] = f.read()
    if (link or replug_after is not None) and not use_pty:
        fail("--link and --replug-after need --pty")
    if use_pty:
        try:
            server = serve_pty(options, link=link)
        except OSError as exc:
            fail(f"cannot serve on a pty{f' linked at {link}' if link else ''}: {exc}")
        _serve_pty(server, lambda: serve_pty(options, link=link), replug_after)
    else:
        _console(VirtualPrinter(options))


def _wait_for_signal(server=None):
    """Until SIGINT/SIGTERM (True), or until ``server`` hangs up (False)."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.1):
            if server is not None and server.hung_up.is_set():
                return False
        return True
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve_pty(server, restart=None, replug_after=None):
    try:
        click.echo(server.link or server.path)
        sys.stdout.flush()
        click.echo(f"virtual printer ({server.printer.options.firmware_name}) on {server.path}"
                   f"{f' (linked at {server.link})' if server.link else ''}; stop with Ctrl-C", err=True)
        while not _wait_for_signal(server if replug_after is not None else None):
            server.close()
            if _sleep_or_signal(replug_after):
                return
            server = restart()
            click.echo(f"virtual printer re-plugged on {server.path}", err=True)
    finally:
        server.close()


def _sleep_or_signal(seconds):
    """Wait ``seconds``; True if a signal asked to stop meanwhile."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return stop.wait(seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _console(printer):
    """Lines from stdin go to the printer, its answers to stdout, until end of input."""
    printer.timeout = 0.2

    def pump():
        while True:
            try:
                data = printer.read(4096)
            except Exception:
                return
            if data:
                sys.stdout.write(data.decode("latin-1"))
                sys.stdout.flush()

    reader = threading.Thread(target=pump, name="virtual-console", daemon=True)
    reader.start()
    try:
        for line in sys.stdin:
            printer.write(line.encode("latin-1", "replace"))
        printer.wait_idle()
        while printer.in_waiting:
            time.sleep(0.01)
    except KeyboardInterrupt:
        pass
    except serial.SerialException as exc:
        click.echo(f"virtual printer: {exc}", err=True)
    finally:
        printer.close()
        reader.join()
