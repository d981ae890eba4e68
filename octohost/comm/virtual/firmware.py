"""The firmware of the virtual printer: Marlin's line protocol, as a host sees it.

Line numbers, checksums, resend requests, the one ``ok`` per line, injected faults and simulated
time live here; the G-code commands themselves in ``commands``.

No threads and no clock of its own: the board (``VirtualPrinter``) feeds it received lines and
the simulated time, and it answers through the board's ``emit``/``acknowledge``. That keeps every
answer deterministic for a given seed and input, and lets tests drive it directly.
"""

import collections
import random
import re

from .commands import MarlinCommands, Wait
from .debug import PREFIX as DEBUG_PREFIX
from .debug import DebugCommands
from .heaters import Heaters
from .sdcard import SdCard

_NUMBERED = re.compile(r"N(-?\d+)\s*")


def checksum(text):
    """XOR of the bytes before ``*``, as Marlin computes it."""
    value = 0
    for byte in text.encode("latin-1", "replace"):
        value ^= byte
    return value


class Firmware(MarlinCommands, DebugCommands):
    """Answers lines like Marlin 2 does; ``io`` is the board (see ``VirtualPrinter``)."""

    def __init__(self, options, io):
        self.options = options
        self.io = io
        self.rng = random.Random(options.seed)
        # the latest accepted commands, for tests to look at; bounded, or a long print grows it by ~100 bytes a line
        self.accepted = collections.deque(maxlen=options.accepted_kept)
        self.accepted_count = 0
        self.sd = SdCard(options.sd_files, present=options.sd_card)
        self.now = 0.0
        self._reset_done = False
        self._disconnect_done = False
        self.oks_to_lose = 0  # the next oks to drop, on demand (``VirtualPrinter.lose_oks``)
        self._init_state()

    # -- state --------------------------------------------------------------------------------------

    def _init_state(self):
        self.last_n = 0
        self.heaters = Heaters(self.options)
        self.active_tool = 0
        self.position = {"X": 0.0, "Y": 0.0, "Z": 0.0, "E": 0.0}
        self.relative = False
        self.relative_e = False
        self.temp_interval = 0.0
        self.next_temp_report = None
        self.sd_interval = 0.0
        self.next_sd_report = None
        self.busy_interval = self.options.busy_interval
        self.active = None
        self.next_keepalive = None  # when the host keepalive speaks next while a command holds the queue
        self.halted = False
        self.hung = False
        self.sd.selected, self.sd.position, self.sd.printing, self.sd.writing = None, 0, False, None
        self.sd.ready = self.sd.present

    def reset(self):
        """Power-on state and the ``start`` banner; SD card files survive, as on a real board."""
        self._init_state()
        self.io.emit("start")
        for line in self.options.banner:
            self.io.emit(line)
        if self.sd.present:
            self.io.emit("echo:SD card ok")

    @property
    def blocked(self):
        return self.active is not None

    # -- time ---------------------------------------------------------------------------------------

    def advance(self, now):
        """Let simulated time pass up to ``now`` (seconds): heaters, reports, SD printing, waits."""
        elapsed = max(0.0, now - self.now)
        self.now = now
        if elapsed:
            self.heaters.advance(elapsed)
            if self.sd.advance(elapsed * self.options.sd_print_rate):
                self.io.emit("Done printing file")
                self.sd.selected, self.sd.position = None, 0
        if self.next_temp_report is not None and now >= self.next_temp_report:
            self.io.emit(self.heaters.report(self.active_tool))
            self.next_temp_report = now + self.temp_interval
        if self.next_sd_report is not None and now >= self.next_sd_report:
            if self.sd.printing:
                self.io.emit(self._sd_status())
            self.next_sd_report = now + self.sd_interval
        if self.active is not None:
            wait = self.active
            if wait.next_report is not None and now >= wait.next_report:
                self.io.emit(wait.report())
                wait.next_report = now + wait.interval
            keepalive = self.next_keepalive
            if keepalive is not None and now >= keepalive and (wait.deadline is None or keepalive < wait.deadline):
                # Marlin's HOST_KEEPALIVE_FEATURE (with BUSY_WHILE_HEATING): every M113 interval while blocked
                self.io.emit("echo:busy: " + wait.busy)
                self.next_keepalive = now + self.busy_interval if self.busy_interval > 0 else None
            if wait.done():
                self.active = None
                self._finish()

    def next_event(self):
        """Simulated seconds from ``self.now`` until something happens without input; None: nothing."""
        times = [t for t in (self.next_temp_report, self.next_sd_report) if t is not None]
        if self.sd.printing:
            times.append(self.now + (self.sd.size - self.sd.position) / self.options.sd_print_rate)
        if self.active is not None:
            if self.active.next_report is not None:
                times.append(self.active.next_report)
            if self.next_keepalive is not None:
                times.append(self.next_keepalive)
            eta = self.active.eta() if self.active.eta else None
            if eta is not None:
                times.append(self.now + max(eta, 1e-4))
        if not times:
            return None
        return max(0.0, min(times) - self.now)

    # -- the line protocol -------------------------------------------------------------------------

    def receive(self, raw, corrupted=False):
        """One received line (without its line end); ``corrupted``: bytes were lost in the RX buffer."""
        if self.halted or self.hung:
            self.io.acknowledge(None)
            return
        text = raw.split(";", 1)[0].strip()
        if not text:
            if corrupted:
                self._line_error("checksum mismatch")
            else:
                self.io.acknowledge(None)
            return
        if text[0] == "N":
            match = _NUMBERED.match(text)
            if match is None:
                self._line_error("checksum mismatch")
                return
            number = int(match.group(1))
            star = text.rfind("*")
            body = text[match.end():star if star >= 0 else None].strip()
            if number != self.last_n + 1 and "M110" not in body.upper():
                self._line_error("Line Number is not Last Line Number+1")
                return
            if star < 0:
                self._line_error("No Checksum with line number")
                return
            given = text[star + 1:].strip()
            if not given.isdigit() or int(given) != checksum(text[:star]):
                self._line_error("checksum mismatch")
                return
            checksum_fault = self.rng.random() < self.options.checksum_error_rate
            number_fault = self.rng.random() < self.options.missing_line_number_rate
            if checksum_fault:
                self._line_error("checksum mismatch")
                return
            if number_fault:
                self._line_error("No Line Number with checksum")
                return
            self.last_n = number
            command = body
        elif "*" in text:
            self._line_error("No Line Number with checksum")
            return
        else:
            command = text
        self._accept(command)

    def _line_error(self, message):
        self.io.emit(f"Error:{message}, Last Line: {self.last_n}")
        if self.options.flush_rx_on_error:
            self.io.discard_received()
        self.io.emit(f"Resend: {self.last_n + 1}")
        self._ok()

    def _ok(self, text=None):
        if self.rng.random() < self.options.lost_ok_rate or self.oks_to_lose and self._lose_ok():
            self.io.acknowledge(None)
            return
        if text is None:
            text = "ok"
            if self.options.advanced_ok:
                planner_free = self.options.planner_buffer_size - 1
                buffer_free = max(0, self.options.command_buffer_size - 1 - self.io.pending_count())
                text = f"ok N{self.last_n} P{planner_free} B{buffer_free}"
        self.io.acknowledge(text)

    def _lose_ok(self):
        self.oks_to_lose -= 1
        return True

    def _accept(self, command):
        self.accepted.append(command)
        self.accepted_count += 1
        if self.sd.writing is not None and not command.upper().startswith("M29"):
            self.sd.writing[1].append(command)
            self._ok()
            self._after_accept()
            return
        if command.startswith(DEBUG_PREFIX):
            self.debug(command)
            return
        result = self.execute(command)
        if isinstance(result, Wait):
            self.active = result
            keepalive = self.options.busy_protocol and self.busy_interval > 0
            self.next_keepalive = self.now + self.busy_interval if keepalive else None
            self.advance(self.now)
        else:
            self._ok(result)
            self._after_accept()

    def _finish(self):
        self._ok()
        self._after_accept()

    def _after_accept(self):
        count = self.accepted_count
        limit = self.options.reset_after_lines
        if limit is not None and not self._reset_done and count >= limit:
            self._reset_done = True
            self.io.firmware_reset()
        elif (self.options.disconnect_after_lines is not None and not self._disconnect_done
              and count >= self.options.disconnect_after_lines):
            self._disconnect_done = True
            self.io.disconnect()

    def emergency(self, command):
        """Marlin's emergency parser: M108 and M112 act as soon as they arrive, even mid-wait."""
        code = command.split(";", 1)[0].strip().upper()
        if code.startswith("N"):
            code = _NUMBERED.sub("", code, count=1).split("*", 1)[0].strip()
        if code.startswith("M108") and self.active is not None:
            self.active.done = lambda: True
            self.active.eta = None
        elif code.startswith("M112"):
            self.halt()

    def halt(self):
        self.active = None
        self.halted = True
        for heater in self.heaters.all():
            heater.target = 0.0
        self.io.emit("Error:Printer halted. kill() called!")
