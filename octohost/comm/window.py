"""How many lines may be in flight: the ``serial.window`` modes, as accounting without I/O.

Every transmission (first send or resend) gets exactly one ``ok`` from the firmware, also the
ones it rejects with a resend request, so the window counts transmissions, not line numbers.

- ``ping-pong``: one line in flight; the safe default for unknown firmware.
- ``rx-bytes``: lines in flight while their bytes fit the firmware's receive buffer
  (``serial.rxBufferSize``), as Grbl-style character counting does.
- ``advanced-ok``: as many lines as the firmware reported free command slots (``B`` of
  ``ok N.. P.. B..``), still within the receive buffer; until an ``ok`` carries ``B``, ping-pong.
  ``N`` in those oks also settles transmissions whose ``ok`` got lost.
"""

import collections

PING_PONG = "ping-pong"
RX_BYTES = "rx-bytes"
ADVANCED_OK = "advanced-ok"
MODES = (PING_PONG, RX_BYTES, ADVANCED_OK)


class InFlight:
    """One transmission waiting for its ok."""

    __slots__ = ("line_number", "size", "filepos", "long_running")

    def __init__(self, line_number, size, filepos, long_running):
        self.line_number = line_number
        self.size = size
        self.filepos = filepos
        self.long_running = long_running


class Window:
    def __init__(self, mode=PING_PONG, rx_buffer_size=128, max_lines=255):
        if mode not in MODES:
            raise ValueError(f"unknown window mode {mode!r}, expected one of {', '.join(MODES)}")
        self.mode = mode
        self.rx_buffer_size = rx_buffer_size
        self.max_lines = max(1, max_lines)
        self.in_flight = collections.deque()
        self.bytes_in_flight = 0
        self.free_slots = None  # last B of an advanced ok

    def __len__(self):
        return len(self.in_flight)

    def can_send(self, size):
        """Whether a transmission of ``size`` bytes may go out now."""
        count = len(self.in_flight)
        if not count:
            return True
        if self.mode == PING_PONG or count >= self.max_lines:
            return False
        if self.bytes_in_flight + size > self.rx_buffer_size:
            return False
        if self.mode == ADVANCED_OK:
            return self.free_slots is not None and count < self.free_slots
        return True

    def sent(self, line_number, size, filepos=None, long_running=False):
        self.in_flight.append(InFlight(line_number, size, filepos, long_running))
        self.bytes_in_flight += size

    def acked(self, extras=None):
        """Account one ok (with its parsed extras); returns the oldest settled transmission or None."""
        if not self.in_flight:
            return None
        entry = self._pop()
        if extras and self.mode == ADVANCED_OK:
            if "B" in extras:
                self.free_slots = extras["B"]
            acked_line = extras.get("N")
            if acked_line is not None:
                while self.in_flight and self.in_flight[0].line_number <= acked_line \
                        and self.in_flight[0].line_number >= entry.line_number:
                    entry = self._pop()
        return entry

    def _pop(self):
        entry = self.in_flight.popleft()
        self.bytes_in_flight -= entry.size
        return entry

    def assume_lost_ok(self):
        """Drop the oldest transmission after a timeout (its ok never came); returns it or None."""
        return self._pop() if self.in_flight else None

    def has_long_running(self):
        return any(entry.long_running for entry in self.in_flight)

    def clear(self):
        self.in_flight.clear()
        self.bytes_in_flight = 0
        self.free_slots = None
