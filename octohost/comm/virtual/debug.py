"""``!!DEBUG:`` commands: faults the virtual printer acts out when a host (or a test) asks.

Sent like any G-code line (numbered or not), e.g. through the terminal or ``POST
/api/printer/command``. None of them exists on a real printer:

- ``!!DEBUG:unplug``: the cable is pulled (no ok; on a pty the port disappears)
- ``!!DEBUG:reset``: the board resets (no ok; ``start`` and the banner follow)
- ``!!DEBUG:hang``: the firmware stops answering anything, reports included, until a reset
- ``!!DEBUG:action NAME [PARAMS]``: ``//action:NAME PARAMS`` (e.g. ``out_of_filament T0``), then ok
- ``!!DEBUG:error TEXT``: ``Error:TEXT`` (e.g. ``Thermal Runaway, system stopped! Heater_ID: 0``), then ok
"""

PREFIX = "!!DEBUG:"


class DebugCommands:
    """A mixin of the virtual firmware (``self.io`` is the board, ``self._ok`` answers)."""

    hung = False

    def debug(self, command):
        """Run ``!!DEBUG:...``; the caller has stripped nothing but the line number and checksum."""
        name, _, rest = command[len(PREFIX):].strip().partition(" ")
        name = name.lower()
        if name == "unplug":
            self.io.disconnect()
        elif name == "reset":
            self.io.firmware_reset()
        elif name == "hang":
            self.hang()
        elif name == "action":
            self.io.emit(f"//action:{rest.strip()}")
            self._ok()
        elif name == "error":
            self.io.emit(f"Error:{rest.strip()}")
            self._ok()
        else:
            self.io.emit(f"echo:Unknown debug command: {name!r}")
            self._ok()

    def hang(self):
        """Answer nothing from now on (a firmware stuck in a loop); ``reset`` ends it."""
        self.hung = True
        self.active = None
        self.next_temp_report = None
        self.next_sd_report = None
