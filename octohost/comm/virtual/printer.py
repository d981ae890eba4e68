"""The board around the virtual firmware: a pyserial-like port with an RX buffer and a clock.

The host writes bytes; complete lines wait until they are answered. As in Marlin, the oldest
``command_buffer_size`` of them sit in the command queue and the rest in the RX buffer, which
holds ``rx_buffer_size`` bytes like a real board's serial ring buffer: a line that does not fit
loses its overflowing bytes (the line end survives), so a host that sends more than the
firmware can hold gets checksum errors instead of silent success. Lines run in
order against simulated time: right inside ``write`` when the firmware is idle (no thread hop,
so the virtual printer is never what limits a benchmark), otherwise on the firmware thread, which
also drives heaters, auto-reports and SD printing. Answers go to the TX buffer that ``read`` drains.
"""

import collections
import itertools
import re
import threading
import time

import serial

from ..ports import VIRTUAL_PORT
from .firmware import Firmware
from .options import VirtualOptions

#: what Marlin's emergency parser acts on the moment it arrives
_EMERGENCY = re.compile(rb"M108|M112", re.IGNORECASE)


class VirtualPrinter:
    """The firmware side, in-process. Behaves like a pyserial ``Serial`` object for the host loops."""

    port = VIRTUAL_PORT
    name = VIRTUAL_PORT

    def __init__(self, options=None):
        self.options = options or VirtualOptions()
        self.timeout = 1.0
        self.write_timeout = None
        self.baudrate = 115200
        self.is_open = True
        self._disconnected = False
        self._out = bytearray()
        self._out_cond = threading.Condition()
        self._output_listener = None
        self._in_cond = threading.Condition()
        self._pending = collections.deque()  # (text, corrupted, generation)
        self._line_sizes = collections.deque()
        self._in_flight = 0
        self._partial = b""
        self._generation = 0
        self._stopping = False
        self._woken = False
        self._runner_wakes_at = None  # simulated time the firmware thread sleeps until (None: until woken)
        self._disconnect_listener = None
        self._firmware_lock = threading.RLock()
        self._t0 = time.monotonic()
        self._firmware = Firmware(self.options, self)
        with self._firmware_lock:
            self._firmware.reset()
        self._thread = threading.Thread(target=self._run, name="virtual-printer-firmware", daemon=True)
        self._thread.start()

    # -- what tests look at ---------------------------------------------------------------------------

    @property
    def accepted(self):
        """The commands the firmware accepted, in order, without ``N`` prefix and ``*checksum``: a copy.

        Only the latest ``options.accepted_kept`` are remembered; ``accepted_count`` counts them all.
        """
        while True:  # no lock: the firmware holds its lock for whole batches, and tests poll this
            try:
                return list(self._firmware.accepted)
            except RuntimeError:  # appended to while being copied
                continue

    @property
    def accepted_count(self):
        return self._firmware.accepted_count

    @property
    def firmware(self):
        """The firmware state machine (``halted``, ``heaters``, ``position``, ``sd``...), for tests to inspect."""
        return self._firmware

    @property
    def sd_files(self):
        """The SD card's files as {long name: bytes}."""
        with self._firmware_lock:
            return dict(self._firmware.sd.files)

    # -- pyserial surface -----------------------------------------------------------------------------

    def write(self, data):
        self._check_usable("write")
        data = bytes(data)
        emergencies = []
        with self._in_cond:
            *lines, self._partial = (self._partial + data).replace(b"\r", b"\n").split(b"\n")
            capacity = self.options.rx_buffer_size
            for line in lines:
                if not line.strip():
                    continue
                size = len(line) + 1
                corrupted = False
                if capacity is not None and self._in_flight + size > capacity:
                    used = self._in_flight - sum(itertools.islice(self._line_sizes, self.options.command_buffer_size))
                    if used + size > capacity:
                        kept = max(0, capacity - used - 1)
                        line, size, corrupted = line[:kept], kept + 1, True
                self._in_flight += size
                self._line_sizes.append(size)
                self._pending.append((line.decode("latin-1"), corrupted, self._generation))
                if self.options.emergency_parser and _EMERGENCY.search(line):
                    emergencies.append(line.decode("latin-1"))
        if emergencies:
            with self._firmware_lock:
                for line in emergencies:
                    self._firmware.emergency(line)
        if not lines:
            return len(data)
        if self.options.ok_delay or emergencies or not self._firmware_lock.acquire(blocking=False):
            self._wake()
            return len(data)
        try:
            # the firmware is idle: answer right here, without a thread hop
            self._process_pending()
            due = self._firmware.next_event()
            wake = self._pending or (due is not None and (
                self._runner_wakes_at is None or self._firmware.now + due < self._runner_wakes_at))
        finally:
            self._firmware_lock.release()
        if wake:
            self._wake()
        return len(data)

    def read(self, size=1):
        """Block up to ``timeout`` for at least one byte; return what is waiting, up to ``size``."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        with self._out_cond:
            while not self._out:
                self._check_usable("read")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return b""
                self._out_cond.wait(remaining)
            chunk = bytes(self._out[:size])
            del self._out[:size]
            return chunk

    def readline(self, size=-1):
        """Up to and including the next newline; a partial line on timeout, like pyserial."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        with self._out_cond:
            while True:
                end = self._out.find(b"\n")
                if end >= 0 or (size > 0 and len(self._out) >= size):
                    count = end + 1 if end >= 0 else size
                    if size > 0:
                        count = min(count, size)
                    line = bytes(self._out[:count])
                    del self._out[:count]
                    return line
                if not self._out:
                    self._check_usable("read")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    line = bytes(self._out)
                    self._out.clear()
                    return line
                self._out_cond.wait(remaining)

    @property
    def in_waiting(self):
        with self._out_cond:
            if not self._out:
                self._check_usable("read")
            return len(self._out)

    def flush(self):
        self._check_usable("write")

    def reset_input_buffer(self):
        with self._out_cond:
            self._out.clear()

    def reset_output_buffer(self):
        pass

    def close(self):
        """Stop the firmware thread; further reads and writes raise ``PortNotOpenError``."""
        if not self.is_open:
            return
        self.is_open = False
        with self._in_cond:
            self._stopping = True
            self._in_cond.notify_all()
        with self._out_cond:
            self._out_cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _check_usable(self, what):
        if not self.is_open:
            raise serial.PortNotOpenError()
        if self._disconnected:
            raise serial.SerialException(f"{what} failed: device disconnected ({self.port})")

    def wait_idle(self, timeout=None):
        """Wait until every line written so far was answered (or dropped); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_open and not self._disconnected:
            with self._in_cond:
                if not self._line_sizes:
                    break
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    # -- fault injection on demand -------------------------------------------------------------------

    def inject(self, line):
        """Make the firmware emit ``line`` now (``// action:pause``, ``Error:Thermal Runaway``...)."""
        self.emit(line)

    def lose_oks(self, count=1):
        """Drop the oks of the next ``count`` lines the firmware answers, as a noisy line would."""
        with self._firmware_lock:
            self._firmware.oks_to_lose += count

    def reset(self):
        """Reset the board as its reset button would: pending input is lost, ``start`` follows."""
        with self._firmware_lock:
            self.firmware_reset()

    def disconnect(self):
        """Pull the cable: what was already sent can still be read, then reads and writes raise."""
        self._disconnected = True
        with self._in_cond:
            self._stopping = True
            self._in_cond.notify_all()
        with self._out_cond:
            self._out_cond.notify_all()
        if self._disconnect_listener is not None:
            self._disconnect_listener()

    def redirect_output(self, listener, on_disconnect=None):
        """Hand every byte the firmware sends to ``listener(bytes)`` instead of ``read`` (the pty server).

        ``listener`` is called with the output lock held, so bytes arrive in order; it must not block.
        """
        with self._out_cond:
            waiting = bytes(self._out)
            self._out.clear()
            self._output_listener = listener
            self._disconnect_listener = on_disconnect
            if waiting:
                listener(waiting)

    # -- the board, as the firmware sees it ----------------------------------------------------------

    def emit(self, line):
        data = line.encode("latin-1", "replace") + b"\n"
        listener = self._output_listener
        with self._out_cond:
            if listener is not None:
                listener(data)
            else:
                self._out += data
            self._out_cond.notify_all()

    def acknowledge(self, text):
        """The firmware is done with the oldest line: free its RX bytes and send ``text`` (None: nothing)."""
        if text is not None and self.options.ok_delay:
            time.sleep(self.options.ok_delay)
        with self._in_cond:
            if self._line_sizes:
                self._in_flight -= self._line_sizes.popleft()
            if text is not None:
                self.emit(text)

    def discard_received(self):
        """Drop every line (and partial line) still waiting in the RX buffer, unanswered.

        Marlin does that after a line error.
        """
        with self._in_cond:
            for _ in range(len(self._pending)):
                self._pending.pop()
                self._in_flight -= self._line_sizes.pop()
            self._partial = b""

    def pending_count(self):
        return len(self._pending)

    def firmware_reset(self):
        with self._in_cond:
            self._generation += 1
            self._pending.clear()
            self._line_sizes.clear()
            self._in_flight = 0
            self._partial = b""
        self._firmware.reset()

    # -- the firmware thread -------------------------------------------------------------------------

    def _simulated_now(self):
        return (time.monotonic() - self._t0) * self.options.time_scale

    def _wake(self):
        with self._in_cond:
            self._woken = True
            self._in_cond.notify()

    def _process_pending(self):
        """Run queued lines in order until the queue is empty or a command holds it (caller holds the firmware lock)."""
        firmware = self._firmware
        firmware.advance(self._simulated_now())
        while not firmware.blocked:
            with self._in_cond:
                if not self._pending or self._stopping:
                    return
                text, corrupted, generation = self._pending.popleft()
            if generation == self._generation:
                firmware.receive(text, corrupted)

    def _run(self):
        firmware = self._firmware
        scale = self.options.time_scale
        while True:
            with self._firmware_lock:
                self._process_pending()
                wait = firmware.next_event()
                self._runner_wakes_at = None if wait is None else firmware.now + wait
            with self._in_cond:
                if self._stopping:
                    return
                if self._woken or (self._pending and not firmware.blocked):
                    self._woken = False
                    continue
                self._in_cond.wait(None if wait is None else wait / scale)
