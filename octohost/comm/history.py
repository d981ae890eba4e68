"""The resend history: the last sent lines by line number, for ``Resend: N`` requests."""

from __future__ import annotations


class ResendHistory:
    """A ring buffer of ``(line_number, data, filepos)``; old entries are overwritten.

    Sized (``serial.resendHistory``) to cover every line that can be in flight; the window
    never lets more lines be unacknowledged than the history holds.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("resend history needs room for at least one line")
        self.capacity = capacity
        self._slots: list[tuple[int, bytes, int | None] | None] = [None] * capacity

    def add(self, line_number: int, data: bytes, filepos: int | None = None) -> None:
        self._slots[line_number % self.capacity] = (line_number, data, filepos)

    def get(self, line_number: int) -> tuple[bytes, int | None] | None:
        """``(data, filepos)`` of ``line_number``, or None when it was never sent or is overwritten."""
        if line_number < 0:
            return None
        entry = self._slots[line_number % self.capacity]
        if entry is None or entry[0] != line_number:
            return None
        return entry[1], entry[2]

    def clear(self) -> None:
        self._slots = [None] * self.capacity
