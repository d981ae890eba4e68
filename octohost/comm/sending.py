"""The send side: line numbering, resend history, the window, and the pump that writes lines.

:meth:`Sender.pump` writes as many lines as the window allows: first pending resends, then
queued commands (API, scripts, plugins), then job lines pulled lazily from the file. The receive
thread calls :meth:`Sender.acknowledge` for every ``ok`` and so writes the next line itself,
without a thread hand-off; the send thread (:meth:`Sender.run`) only wakes for newly queued
commands and the poll timers. What the send lock covers is stated once, at :class:`Sender`.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from octohost.logs import serial_log

from .callback import CommCallback
from .commandrules import CommandRules
from .config import CommConfig
from .fastio import writer
from .history import ResendHistory
from .job import LocalFileJob, SdJob
from .linelimit import max_command_length, problem, split_lines
from .phases import QUEUED, SENT, Phases
from .protocol import frame_command, parameter, parse_at_command
from .sendqueue import Command, SendQueue
from .turnaround import SAMPLE_EVERY, Histogram
from .window import FILEPOS, LINE, Window

log = logging.getLogger(__name__)


class ResendError(Exception):
    """The firmware asked for a line that cannot be resent correctly."""


class EmergencyStopped(OSError):
    """A write after :meth:`Sender.emergency`: nothing may follow an emergency stop onto the wire."""


def _halted(data: bytes) -> None:
    raise EmergencyStopped("the port takes nothing more after an emergency stop")


class SenderHost(Protocol):
    """What :class:`Sender` needs of the connection (``MachineCom``)."""

    phases: Phases
    callback: CommCallback
    rules: CommandRules

    def job_source(self) -> LocalFileJob | SdJob | None: ...
    def job_finished(self) -> bool: ...
    def job_complete(self) -> None: ...
    def queue_phase(self, command: Command) -> list[Command]: ...
    def at_command(self, phase: str, name: str, params: str, command: Command) -> None: ...
    def observe_sent(self, command: Command) -> None: ...
    def connection_lost(self, exc: BaseException) -> None: ...


class Sender:
    """Owns everything between "a command is queued" and "its bytes are on the wire".

    ``host`` is the connection as far as the sender needs it (:class:`SenderHost`).

    The send lock (``Sender.lock``, reentrant) is taken by :meth:`pump`, :meth:`acknowledge`,
    :meth:`settle_through`, :meth:`resend_requested`, :meth:`timed_out`,
    :meth:`reset_line_numbers`, :meth:`send_now` and :meth:`drop_job_lines` (so by the receive
    thread for oks, resend requests and line errors, by the send thread for each pump, and by
    whoever sends at once), and by ``JobControl.set_pause`` (so no job line goes out after a
    pause returns); :meth:`enqueue`, :meth:`in_flight`, :attr:`acked_lines` and :meth:`stop`
    do not take it. It guards the line numbers, the resend history, the window and the staged,
    parked and pending lines. Held with it is everything a pump does: pulling job lines through
    the queuing and queued phases, the sending phase, at-command handlers (an ``@pause`` or
    ``@cancel`` in a file pauses or cancels right there), framing, the write itself, the terminal
    log callback, the sent phase, ``observe_sent`` and, after the last job line's ok (or the
    last ok a cancel waits for), ``job_complete`` with its state changes and job-done (or
    cancelled) callback. It does not guard the send queue (its own lock) or the comm state (the
    state machine's own lock). So handlers and
    callbacks on this path must not wait for another thread that may need the lock.

    Every write to the port happens under a second lock, the write lock, held for the write call
    alone and never across plugin code or callbacks. :meth:`emergency` takes only that one, so an
    emergency stop reaches the wire while the send lock is held by a pump stuck in a plugin handler,
    a callback or the file reader.
    """

    def __init__(self, host: SenderHost, transport: Any, config: CommConfig) -> None:
        self.host = host
        self.config = config
        self._write = writer(transport)
        self.queue = SendQueue()
        self.history = ResendHistory(max(2, config.resend_history))
        self.window = Window(config.window, config.rx_buffer_size, max_lines=self.history.capacity - 1)
        self.next_line = 1
        self.lock = threading.RLock()
        self._write_lock = threading.Lock()  # the write call alone; see emergency()
        self.wake = threading.Event()
        # (command, line number, data, text) waiting for room in the window
        self._staged: tuple[Command, int | None, bytes, str] | None = None
        self._job_pending: collections.deque[Command] = collections.deque()  # expansions of the current job line
        self._parked: Command | None = None  # a job line that went through the sending phase just before a pause
        self._resend_next: int | None = None
        self._resend_end: int | None = None
        self._resend_requested: int | None = None
        self._duplicate_resends = 0
        self._resync_until: float | None = None  # while lines behind a rejected one may still answer (_resynced)
        self._resends_per_line: collections.Counter[int] = collections.Counter()
        self.transmitted = 0
        self.resent = 0
        self.turnaround = Histogram()  # ok -> next line written, sampled (see .turnaround)
        self._until_timed = SAMPLE_EVERY
        self.job_lines_sent = 0
        self.sent_filepos: int | None = None
        self.acked_filepos: int | None = None
        self.last_z: float | None = None
        self._relative = False
        self.running = False
        self.thread: threading.Thread | None = None
        self.timers: Callable[[], float] | None = None  # seconds until the next timer, run by the send thread
        self._long_running = config.long_running_commands
        self._plain = config.never_send_checksum  # framing rules, read once per connection
        self._checksum_required = config.checksum_requiring_commands
        self.quiet = host.phases.quiet()  # no handlers, no phase log: job lines skip the phases (refresh_handlers)
        self._watched = host.rules.watched  # ...unless the host's own rules concern them (.commandrules)
        self._pumps = 0
        self._received: str | None = None  # an ok line to log before the next transmission's log (acknowledge)
        self.idle_since = 0.0  # when the window last went from empty to busy, for timeouts
        self.max_job_command = self._job_command_limit()  # longest file line sent, refreshed by the pump

    def _job_command_limit(self):
        """The longest file line the firmware can take, allowing for line numbers of 8 digits at least."""
        return max_command_length(self.config.rx_buffer_size, max(self.next_line, 10 ** 6),
                                  numbered=not self.config.never_send_checksum)

    # -- queueing ----------------------------------------------------------------------------------

    def enqueue(self, commands: list[Command]) -> int:
        """Put already queuing-phased commands into the queue and wake the send thread."""
        accepted = 0
        for command in commands:
            if self.queue.put(command):
                accepted += 1
                self.host.phases.notify(QUEUED, command)
            else:
                log.debug("not queueing %r: a command of type %s is already waiting", command.cmd, command.cmd_type)
        if accepted:
            self.wake.set()
        return accepted

    def drop_job_lines(self) -> None:
        """Forget job lines not yet written (cancel); lines in flight still get their oks."""
        with self.lock:
            self._job_pending.clear()
            self._parked = None
            if self._staged is not None and self._staged[0].fileend is not None:
                self._staged = None

    # -- the pump ----------------------------------------------------------------------------------

    def pump(self) -> None:
        with self.lock:
            self._pump()

    def _pump(self):
        window = self.window
        host = self.host
        self._pumps += 1
        if not self._pumps & 0xFF:  # a safety net for handler changes nobody announced (refresh_handlers)
            self.quiet = host.phases.quiet()
            self.max_job_command = self._job_command_limit()
        if self._resync_until is not None and not self._resynced():
            return
        while True:
            if self._resend_next is not None:
                number = self._resend_next
                data, filepos = self.history.get(number)
                if not window.can_send(len(data)):
                    return
                self._resend_next = number + 1 if number + 1 < self._resend_end else None
                self.resent += 1
                if not self._transmit(data, number, filepos, False, "Resend: ", probe=b" M105" in data):
                    return
                continue
            staged = self._staged
            if staged is None:
                staged = self._stage()
                if staged is None:
                    if not window.in_flight and host.job_finished():
                        host.job_complete()
                    return
            else:
                self._staged = None
                staged = self._restage(staged)
                if staged is None:
                    return
            command, number, data, text = staged
            if not window.can_send(len(data)):
                self._staged = staged
                return
            if number is not None:
                self.next_line = number + 1
            if command.fileend is not None:
                self.sent_filepos = command.fileend
                self.job_lines_sent += 1
            gcode = command.gcode
            if not self._transmit(data, number, command.fileend, gcode in self._long_running, "Send: ", text,
                                  gcode == "M105"):
                return
            self._after_sent(command)

    def _restage(self, staged):
        """A line staged by an earlier pump: park it if its job paused since, renumber it if needed."""
        command, number, data, text = staged
        if command.fileend is not None and self.host.job_source() is None:
            self._parked = command  # paused or on hold: the line waits for the job
            return self._stage()
        if number is not None and number != self.next_line:
            return frame_command(command, self.next_line, self._plain, self._checksum_required)
        return staged

    def _transmit(self, data, number, filepos, long_running, prefix, text=None, probe=False):
        """Write first, account after: the answer cannot be handled before the lock is released."""
        try:
            with self._write_lock:
                self._write(data)
        except Exception as exc:
            self.host.connection_lost(exc)
            return False
        window = self.window
        if not window.in_flight:
            self.idle_since = time.monotonic()
        if number is not None:
            self.history.add(number, data, filepos)
        window.sent(number if number is not None else -1, len(data), filepos, long_running, probe)
        self.transmitted += 1
        if self._received is not None:
            self._log_received()
        if text is None:
            text = data[:-1].decode("ascii", "replace")
        self.host.callback.on_comm_log(prefix + text)
        if serial_log.enabled:
            serial_log.write(">>>", text)
        return True

    def _after_sent(self, command):
        gcode = command.gcode
        if gcode == "G1" or gcode == "G0":
            if "Z" in command.cmd or "z" in command.cmd:
                self._track_z(command.cmd)
        elif gcode is not None:
            if gcode == "G91":
                self._relative = True
            elif gcode == "G90":
                self._relative = False
            self.host.observe_sent(command)
        if not self.quiet:
            self.host.phases.notify(SENT, command)

    def _track_z(self, cmd):
        z = parameter(cmd, "Z")
        if z is None:
            return
        if self._relative:
            z = (self.last_z or 0.0) + z
        if z != self.last_z:
            self.last_z = z
            self.host.callback.on_comm_z_change(z)

    def _stage(self):
        """The next command to write, through the sending phase and framed; None if nothing is due."""
        phases = self.host.phases
        if self._parked is not None and not self.queue \
                and self.host.job_source() is not None:
            command, self._parked = self._parked, None
            return frame_command(command, self.next_line, self._plain, self._checksum_required)
        while True:
            command = self.queue.get()
            if command is None:
                command = self._next_job_command()
                if command is None:
                    return None
            if command.gcode is None and command.cmd.startswith("@"):
                name, params = parse_at_command(command.cmd)
                self.host.at_command("sending", name, params, command)
                continue
            if not self.quiet:
                rewritten = phases.sending(command)
                if rewritten is None or rewritten is not command and not self.fits(rewritten, self.max_job_command):
                    continue
                command = rewritten
            return frame_command(command, self.next_line, self._plain, self._checksum_required)

    def _next_job_command(self):
        job = self.host.job_source()
        if job is None:
            return None
        if self._job_pending:
            return self._job_pending.popleft()
        while True:
            line = job.next_line()
            if line is None:
                return None
            cmd, start, end = line
            if len(cmd) > self.max_job_command or "\r" in cmd:  # the one check per line: see _odd_job_line
                results = self._odd_job_line(cmd, start, end)
            else:
                command = Command(cmd, filepos=start, fileend=end)
                if self.quiet and cmd[0] != "@" and command.gcode not in self._watched:
                    return command
                results = self._job_queue_phase(command)
            if not results:
                if self.host.job_source() is not job:  # the phase paused (a pausing command), held or cancelled
                    return None                         # the job: the next line waits for it
                continue
            if len(results) > 1:
                self._job_pending.extend(results[1:])
            return results[0]

    def _job_queue_phase(self, command):
        results = [result for result in self.host.queue_phase(command)
                   if result is command or self.fits(result, self.max_job_command)]  # a plugin's rewrite
        for result in results:
            self.host.phases.notify(QUEUED, result)
        return results

    def fits(self, command, limit):
        """Whether ``command`` goes to the firmware as one line of at most ``limit``; else a note, and False."""
        message = problem(command.cmd, limit, self.config.rx_buffer_size)
        if message is None:
            return True
        log.warning("%s", message)
        self.host.callback.on_comm_log(message)
        return False

    def _odd_job_line(self, cmd, start, end):
        """A file line with a ``\r`` inside or too long for the firmware's receive buffer.

        It is split at the line break like any command (:mod:`.linelimit`); a part too long is
        skipped with a note in the terminal rather than sent: the firmware would lose bytes of it
        and ask for it again until the host gives up and the print is lost. Skipping beats failing
        the job up front, which would mean reading every file through before every print.
        """
        pieces = split_lines(cmd)
        results = []
        for index, piece in enumerate(pieces):
            if len(piece) > self.max_job_command:
                message = (f"Skipped the command at byte {start} of the file: it is {len(piece)} characters long, "
                           f"more than the printer's receive buffer (serial.rxBufferSize, "
                           f"{self.config.rx_buffer_size} bytes) takes with line number and checksum "
                           f"({self.max_job_command})")
                log.warning("%s", message)
                self.host.callback.on_comm_log(message)
                continue
            command = Command(piece, filepos=start, fileend=end if index == len(pieces) - 1 else start)
            quiet = self.quiet and piece[0] != "@" and command.gcode not in self._watched
            results.extend([command] if quiet else self._job_queue_phase(command))
        return results

    def _resynced(self):
        """Whether the lines sent behind a rejected one are accounted for, so the resend may start.

        Some firmware rejects each of them (an error, a ``Resend:`` and an ``ok`` apiece); Marlin
        empties its receive buffer after a bad line and answers none of those. Oks carry no line
        number, so the host waits until either every one has been rejected or the line has been
        quiet for ``resend_quiet`` seconds, and then forgets what is still in flight.
        """
        window = self.window
        if self._duplicate_resends or window.rejections:
            if time.monotonic() < self._resync_until:
                return False
            log.debug("resend resync: %d lines behind the rejected one went unanswered; taking them as dropped",
                      self._duplicate_resends)
            window.forget_in_flight()
            self._duplicate_resends = 0
        self._resync_until = None
        return True

    def _heard(self):
        """The firmware said something during a resync: it may not be done answering yet."""
        if self._resync_until is not None:
            self._resync_until = time.monotonic() + self.config.resend_quiet

    # -- what the receive loop reports -------------------------------------------------------------

    def acknowledge(self, extras: dict[str, Any], oldest: bool = False, received: str | None = None) -> None:
        """An ``ok`` arrived: settle its transmission (``oldest``: the oldest) and send what now fits.

        ``received``: the ok line to log; it is logged after the next line is written but before
        that line's own log entry, so the write waits for nothing and the terminal reads in order.
        """
        with self.lock:
            self._received = received
            try:
                self._heard()
                entry = self.window.acked(extras, oldest)
                if entry is not None and entry[FILEPOS] is not None:
                    self.acked_filepos = entry[FILEPOS]
                self._until_timed -= 1
                if self._until_timed:
                    self._pump()
                else:
                    self._timed_pump()
            finally:
                if self._received is not None:
                    self._log_received()

    def _timed_pump(self):
        """:meth:`_pump`, timed into :attr:`turnaround` when it wrote a line (one ok in SAMPLE_EVERY)."""
        self._until_timed = SAMPLE_EVERY
        sent = self.transmitted
        started = time.perf_counter()
        self._pump()
        if self.transmitted != sent:
            self.turnaround.observe(time.perf_counter() - started)

    def _log_received(self):
        line, self._received = self._received, None
        self.host.callback.on_comm_log("Recv: " + line)
        if serial_log.enabled:
            serial_log.write("<<<", line)

    def settle_through(self, line_number: int) -> None:
        """Lines up to ``line_number`` were accepted (a line error said so): oks lost for them are settled."""
        with self.lock:
            entry = self.window.settle_through(line_number)
            if entry is not None and entry[FILEPOS] is not None:
                self.acked_filepos = entry[FILEPOS]

    def resend_requested(self, number: int) -> None:
        """``Resend: number``: rewind to it, once per request, or raise :class:`ResendError`.

        The firmware rejects every line behind a bad one with the same request, and may repeat
        a request before the line went out again: those repeats change nothing, and only a resent
        line rejected again counts towards ``max_resends_per_line``.
        """
        with self.lock:
            self.window.rejections += 1  # the ok that follows answers the rejected transmission
            self._heard()
            if number == self._resend_requested and (self._duplicate_resends or self._resend_next == number):
                self._duplicate_resends = max(0, self._duplicate_resends - 1)
                return
            if number >= self.next_line:
                if number == self.next_line:
                    return  # the firmware wants the line we have not sent yet: nothing to repeat
                raise ResendError(f"the printer asked to resend line {number}, but the last line sent was "
                                  f"{self.next_line - 1}")
            if self.history.get(number) is None:
                raise ResendError(f"the printer asked to resend line {number}, which is no longer in the resend "
                                  f"history (the last {self.history.capacity} lines); refusing to guess")
            self._resends_per_line[number] += 1
            if self._resends_per_line[number] > self.config.max_resends_per_line:
                raise ResendError(f"the printer asked for line {number} {self._resends_per_line[number]} times; "
                                  f"giving up (is the serial line noisy or the baud rate wrong?)")
            self._resend_requested = number
            self._duplicate_resends = sum(1 for entry in self.window.in_flight if entry[LINE] > number)
            self._resend_next = number
            self._resend_end = self.next_line
            if self._duplicate_resends:
                self._resync_until = time.monotonic() + self.config.resend_quiet
                self.wake.set()  # the send thread keeps the deadline when nothing else arrives

    def timed_out(self) -> None:
        """No ok for too long: assume it was lost, tickle the firmware with M105, go on."""
        with self.lock:
            if self.window.in_flight and not self.window.has_long_running():
                entry = self.window.timed_out()
                if entry is not None and entry[FILEPOS] is not None:
                    self.acked_filepos = entry[FILEPOS]
            command, number, data, text = frame_command(Command("M105"), self.next_line, self._plain,
                                                           self._checksum_required)
            if number is not None:
                self.next_line = number + 1  # a staged line gets renumbered before it goes out
            self._transmit(data, number, None, False, "Send: ", text, probe=True)
            self._pump()

    def reset_line_numbers(self) -> None:
        """Forget numbering and in-flight state, for a (re)started handshake."""
        with self.lock:
            self.next_line = 1
            self.history.clear()
            self.window.clear()
            self._staged = None
            self._resend_next = None
            self._resend_requested = None
            self._duplicate_resends = 0
            self._resync_until = None
            self._resends_per_line.clear()

    def send_now(self, cmd: str) -> None:
        """Write ``cmd`` at once, numbered but outside the window (hello, emergency commands)."""
        with self.lock:
            command, number, data, text = frame_command(Command(cmd), self.next_line, self._plain,
                                                           self._checksum_required)
            if number is not None:
                self.next_line = number + 1
            self._transmit(data, number, None, False, "Send: ", text, command.gcode == "M105")

    def emergency(self, bare: str, numbered: list[str]) -> None:
        """Write ``bare`` without line number, then ``numbered`` numbered, at once; after that, nothing more.

        For M112: ahead of everything queued, staged or being resent, and without the send lock,
        which a pump may hold for as long as a plugin handler, a callback or the file reader takes;
        only the write lock is taken, for the one write. The numbers follow the current line
        number, read without the send lock: a pump between numbering a line and writing it may
        have given that number away, which costs the numbered copy only (the firmware rejects it),
        never the bare one. Every later write raises :class:`EmergencyStopped`, so a line the
        stalled pump still holds never follows the stop onto the wire.
        """
        texts = [bare]
        data = [(bare + "\n").encode("ascii", "replace")]
        number = self.next_line
        for cmd in numbered:
            _, used, framed, text = frame_command(Command(cmd), number, self._plain, self._checksum_required)
            if used is not None:
                number = used + 1
            data.append(framed)
            texts.append(text)
        with self._write_lock:
            write, self._write = self._write, _halted
            write(b"".join(data))
        for text in texts:
            self.host.callback.on_comm_log("Send: " + text)
            if serial_log.enabled:
                serial_log.write(">>>", text)

    def refresh_handlers(self) -> None:
        """Look again whether job lines must go through the phases: from the next line on, not 256 pumps later.

        Called when handlers change (``MachineCom.handlers_changed``: a temperature offset set mid-print
        adds the printer's rewrite). Under the send lock, so a pump's own look cannot overwrite it with
        what it saw before the change; a line already pulled from the file goes out as it was pulled.
        """
        with self.lock:
            self.quiet = self.host.phases.quiet()

    def in_flight(self) -> int:
        return len(self.window)

    @property
    def acked_lines(self) -> int:
        """Job lines the printer has acknowledged, about (for progress display)."""
        return max(0, self.job_lines_sent - len(self.window))

    # -- the send thread ---------------------------------------------------------------------------

    def run(self) -> None:
        """Body of the send thread: sleep until woken or a timer is due, then pump."""
        wake = self.wake
        while self.running:
            timeout = self.timers() if self.timers is not None else None
            resync = self._resync_until
            if resync is not None:
                timeout = max(0.0, min(timeout if timeout is not None else 1.0, resync - time.monotonic()) + 0.001)
            wake.wait(timeout)
            wake.clear()
            if not self.running:
                break
            try:
                with self.lock:
                    self.quiet = self.host.phases.quiet()
                    self._pump()
            except Exception:
                log.exception("the send loop hit an unexpected error; it keeps running")

    def stop(self) -> None:
        self.running = False
        self.wake.set()
