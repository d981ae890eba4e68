"""How many lines may be in flight: the ``serial.window`` modes, as accounting without I/O.

Every transmission (first send or resend) gets exactly one ``ok`` from the firmware, also the
ones it rejects with a resend request, so the window counts transmissions, not line numbers.

- ``ping-pong``: one line in flight; the safe default for unknown firmware.
- ``rx-bytes``: lines in flight while their bytes fit the firmware's receive buffer
  (``serial.rxBufferSize``), as Grbl-style character counting does.
- ``advanced-ok``: the receive buffer again, but ``B`` of ``ok N.. P.. B..`` says how many
  lines wait in the firmware's command queue instead (see :meth:`Window.queued_lines`): their
  bytes have left the receive buffer, so more lines fit in flight. Until an ``ok`` carries
  ``B``, ping-pong. ``N`` in those oks also settles transmissions whose ``ok`` got lost.

In every mode the ``Last Line:`` of a firmware's line error settles lost oks the same way.

Oks carry no line number (unless ADVANCED_OK), so a late ok must never be mistaken for another
line's: that would grant credit for a line the firmware has not answered, and with every late ok
one more line would be in flight than the mode allows. The window therefore never assumes a job
line's ok lost on a timeout. Instead the host sends an ``M105`` tickle (a *probe*); once the
firmware is known to answer M105 with ``ok T:...`` (``typed_oks``), an ok with temperatures
settles through the oldest probe and a plain ok through the oldest other transmission, so the
tickle's answer settles a job line whose ok was really lost, while a late job ok and the
tickle's ok each settle their own. Probes are interchangeable: an ok with temperatures and no
probe in flight is a stray and grants nothing. The ok that follows a ``Resend:`` answers the
oldest transmission, whatever it was (``rejections``).
"""

from __future__ import annotations

import collections
from typing import Any

PING_PONG = "ping-pong"
RX_BYTES = "rx-bytes"
ADVANCED_OK = "advanced-ok"
MODES = (PING_PONG, RX_BYTES, ADVANCED_OK)


#: fields of an in-flight entry, a plain tuple because one is made per line
LINE, SIZE, FILEPOS, LONG_RUNNING, PROBE = range(5)
#: (line number or -1, bytes, file position after the line or None, long running, probe), read by
#: the index constants above (so typed loosely: mypy cannot tell the fields apart by them)
Entry = tuple[Any, ...]


class Window:
    def __init__(self, mode: str = PING_PONG, rx_buffer_size: int = 128, max_lines: int = 255) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown window mode {mode!r}, expected one of {', '.join(MODES)}")
        self.mode = mode
        self.ping_pong = mode == PING_PONG
        self.rx_buffer_size = rx_buffer_size
        self.max_lines = max(1, max_lines)
        self.in_flight: collections.deque[Entry] = collections.deque()
        self.bytes_in_flight = 0
        self.free_slots: int | None = None  # last B of an advanced ok
        self.most_free_slots = 0  # the largest B seen: the command queue's size less one, at least
        self.queued = 0  # the oldest lines in flight known to sit in the command queue, not the RX buffer
        self.typed_oks = False  # the firmware answers M105 with "ok T:..." (learnt from its oks)
        self.rejections = 0  # "Resend:" lines whose ok has not come yet

    def __len__(self) -> int:
        return len(self.in_flight)

    def can_send(self, size: int) -> bool:
        """Whether a transmission of ``size`` bytes may go out now."""
        count = len(self.in_flight)
        if not count:
            return True
        if self.ping_pong or count >= self.max_lines:
            return False
        if self.mode == ADVANCED_OK:
            if self.free_slots is None:
                return False
            if self.queued:
                return self._bytes_in_rx_buffer() + size <= self.rx_buffer_size
        return self.bytes_in_flight + size <= self.rx_buffer_size

    def _bytes_in_rx_buffer(self):
        in_flight = self.in_flight
        queued = min(self.queued, len(in_flight))
        return self.bytes_in_flight - sum(in_flight[index][SIZE] for index in range(queued))

    def sent(self, line_number: int, size: int, filepos: int | None = None, long_running: bool = False,
             probe: bool = False) -> None:
        self.in_flight.append((line_number, size, filepos, long_running, probe))
        self.bytes_in_flight += size

    def acked(self, extras: Any = None, oldest: bool = False) -> Entry | None:
        """Account one ok (with its parsed extras); returns the last settled entry (the last job
        line among those it settled, when the last one is not a job line: see :func:`_furthest`).

        None when the ok settled nothing (nothing in flight, or a stray probe answer).
        ``oldest``: settle the oldest transmission whatever it was (a user's fake ok).
        """
        if self.rejections or oldest:
            if not oldest:
                self.rejections -= 1
            return self._pop() if self.in_flight else None
        if not self.in_flight:
            return None
        if self.typed_oks and self.in_flight[0][PROBE] != (bool(extras) and "temperatures" in extras):
            entry = self._settle_typed(not self.in_flight[0][PROBE])
            if entry is None:
                return None
        else:
            entry = self._pop()
        if extras and self.mode == ADVANCED_OK:
            acked_line = extras.get("N")
            if acked_line is not None:
                in_flight = self.in_flight
                while in_flight and entry[LINE] <= in_flight[0][LINE] <= acked_line:
                    entry = _furthest(entry, self._pop())
            free = extras.get("B")
            if free is not None:
                self.free_slots = free
                if free > self.most_free_slots:
                    self.most_free_slots = free
                self.queued = self.queued_lines(free, self.most_free_slots)
        return entry

    @staticmethod
    def queued_lines(free: int, most_free: int) -> int:
        """How many lines behind the acknowledged one wait in the command queue, at least.

        Marlin prints ``B`` (free slots) while the acknowledged command still holds its slot, so
        the queue then held ``size - B`` commands: that one and the ``size - B - 1`` lines after
        it, which left the receive buffer for good. The queue's size is not reported; the
        largest ``B`` seen is at most ``size - 1``, so ``most_free - B`` never counts too many.
        Firmware that frees slots sooner than it reports only makes this more cautious.
        """
        return max(0, most_free - free)

    def _settle_typed(self, probe_answer):
        """Settle through the oldest probe (``probe_answer``) or the oldest other transmission.

        Transmissions before it lost their oks: the firmware answers in order.
        """
        for index, entry in enumerate(self.in_flight):  # noqa: B007 (index is used after the loop)
            if entry[PROBE] == probe_answer:
                break
        else:
            return None
        settled = None
        for _ in range(index + 1):
            settled = _furthest(settled, self._pop())
        return settled

    def _pop(self):
        entry = self.in_flight.popleft()
        self.bytes_in_flight -= entry[SIZE]
        if self.queued:
            self.queued -= 1  # the front line was one of them
        return entry

    def settle_through(self, line_number: int) -> Entry | None:
        """The firmware says it accepted every line up to ``line_number`` ("Last Line:" of an error).

        Transmissions of those lines still waiting at the front lost their oks: settle them.
        Returns the last settled entry (as :meth:`acked` does) or None.
        """
        entry = None
        in_flight = self.in_flight
        while in_flight and 0 <= in_flight[0][LINE] <= line_number:
            entry = _furthest(entry, self._pop())
        return entry

    def timed_out(self) -> Entry | None:
        """No ok for a whole timeout: account for what is lost before the host tickles with a probe.

        With typed oks only probes are dropped (a late probe answer is then a harmless stray); the
        probe about to be sent settles a job line whose ok was lost. Without them the oldest
        transmission is assumed lost, the best guess there is. Returns a dropped job entry or None.
        """
        in_flight = self.in_flight
        if not in_flight:
            return None
        if not self.typed_oks:
            return self._pop()
        kept = [entry for entry in in_flight if not entry[PROBE]]
        if len(kept) < len(in_flight):
            in_flight.clear()
            in_flight.extend(kept)
            self.bytes_in_flight = sum(entry[SIZE] for entry in kept)
            self.queued = 0  # which of those still sit in the command queue is unknown now
        return None

    def forget_in_flight(self) -> None:
        """Everything in flight was answered or dropped by the firmware (after a resend resync)."""
        self.in_flight.clear()
        self.bytes_in_flight = 0
        self.rejections = 0
        self.queued = 0

    def has_long_running(self) -> bool:
        return any(entry[LONG_RUNNING] for entry in self.in_flight)

    def clear(self) -> None:
        self.forget_in_flight()
        self.free_slots = None
        self.most_free_slots = 0


def _furthest(settled: Entry | None, popped: Entry) -> Entry:
    """Of two entries settled in order, the one to report: the later, unless only the earlier is a
    job line. Callers take the file position from what ``acked`` and friends return, and a probe
    answer that settles job lines whose oks were lost must not hide how far the file got."""
    if popped[FILEPOS] is None and settled is not None and settled[FILEPOS] is not None:
        return settled
    return popped
