"""Marlin's G-code commands as the virtual printer runs them.

A mixin of :class:`~octohost.comm.virtual.firmware.Firmware`: handlers read and change the
firmware's state (``position``, ``heaters``, ``sd``, ...) and talk through ``self.io``. Each
returns None (a plain ``ok`` follows), an ``ok ...`` line to send instead, or a :class:`Wait`
that holds the command queue until it is done (homing, dwell, heating).
"""

import re

_CODE = re.compile(r"([GMT])(\d+)(?:\.\d+)?", re.IGNORECASE)
_PARAM = re.compile(r"([A-Z])\s*([-+]?\d*\.?\d+)?")

#: commands Marlin knows that change nothing the virtual printer models
_SILENT = frozenset(
    "G2 G3 G5 G10 G11 G12 G17 G18 G19 G20 G21 G26 G27 G30 G31 G32 G33 G34 G35 G38 G42 G53 G54 G60 G61 G76 G80 "
    "M0 M1 M3 M4 M5 M7 M8 M9 M16 M17 M18 M31 M32 M33 M34 M42 M43 M48 M73 M75 M76 M77 M78 M80 M81 "
    "M84 M85 M92 M100 M106 M107 M111 M119 M120 M121 M125 M149 M150 M163 M164 M165 M166 M200 M201 M203 M204 "
    "M205 M206 M207 M208 M209 M211 M217 M218 M220 M221 M226 M240 M250 M256 M260 M261 M280 M281 M282 M290 "
    "M300 M301 M302 M303 M304 M305 M350 M351 M355 M360 M361 M362 M363 M364 M380 M381 M400 M401 M402 M403 "
    "M404 M405 M406 M407 M410 M412 M413 M420 M421 M422 M425 M428 M430 M486 M500 M501 M502 M503 M504 M510 "
    "M511 M512 M524 M540 M569 M575 M592 M593 M600 M603 M605 M665 M666 M672 M701 M702 M710 M7219 M808 M810 "
    "M851 M852 M860 M871 M876 M900 M906 M907 M908 M909 M910 M911 M912 M913 M914 M915 M916 M917 M918 M919 "
    "M928 M951 M993 M994 M995 M997 M999".split())


def parse_params(text):
    return {letter: (float(value) if value else None) for letter, value in _PARAM.findall(text.upper())}


class Wait:
    """A command that holds the command queue (homing, dwell, heating) until it is done.

    ``report``/``interval``: a line it prints now and then (M109's temperatures); ``busy``: what
    Marlin's host keepalive says meanwhile (``echo:busy: <busy>``, see ``Firmware.advance``);
    ``deadline``: when a timed wait ends, so a late look at the clock adds no keepalive after it.
    """

    def __init__(self, now, done, report=None, interval=None, eta=None, busy="processing", deadline=None):
        self.done = done
        self.report = report
        self.interval = interval
        self.eta = eta
        self.busy = busy
        self.deadline = deadline
        self.next_report = now + interval if interval else None


class MarlinCommands:
    """Handlers named after their code (``_G28``, ``_M105``); codes in ``_SILENT`` just get their ok."""

    def execute(self, command):
        """Run one accepted command: None (plain ok), an ``ok ...`` line, or a Wait that holds the queue."""
        match = _CODE.match(command)
        if match is None:
            self.io.emit(f'echo:Unknown command: "{command}"')
            return None
        letter, number = match.group(1).upper(), int(match.group(2))
        rest = command[match.end():]
        if letter == "T":
            return self._select_tool(number)
        code = f"{letter}{number}"
        handler = getattr(self, f"_{code}", None)
        if handler is not None:
            return handler(rest)
        if code in _SILENT:
            return None
        self.io.emit(f'echo:Unknown command: "{command}"')
        return None

    def _select_tool(self, number):
        if number >= self.options.extruder_count:
            self.io.emit(f"echo:T{number} Invalid extruder")
        else:
            self.active_tool = number
            self.io.emit(f"echo:Active Extruder: {number}")
        return None

    def _move(self, rest):
        params = parse_params(rest)
        for axis in "XYZE":
            value = params.get(axis)
            if value is None:
                continue
            relative = self.relative_e if axis == "E" else self.relative
            self.position[axis] = self.position[axis] + value if relative else value
        return None

    _G0 = _G1 = _move

    def _busy(self, duration):
        deadline = self.now + duration
        return Wait(self.now, lambda: self.now >= deadline, eta=lambda: deadline - self.now, deadline=deadline)

    def _M0(self, rest):
        """Wait for the user (M108, or the S seconds / P milliseconds given), keepalive "paused for user"."""
        params = parse_params(rest)
        seconds = (params.get("P") or 0) / 1000.0 + (params.get("S") or 0)
        if seconds <= 0:
            return Wait(self.now, lambda: False, busy="paused for user")
        deadline = self.now + seconds
        return Wait(self.now, lambda: self.now >= deadline, eta=lambda: deadline - self.now, busy="paused for user",
                    deadline=deadline)

    _M1 = _M0

    def _G4(self, rest):
        params = parse_params(rest)
        seconds = (params.get("P") or 0) / 1000.0 + (params.get("S") or 0)
        return self._busy(seconds) if seconds > 0 else None

    def _G28(self, rest):
        params = parse_params(rest)
        axes = [axis for axis in "XYZ" if axis in params] or list("XYZ")
        for axis in axes:
            self.position[axis] = 0.0
        return self._busy(self.options.homing_time)

    def _G29(self, rest):
        return self._busy(self.options.probing_time)

    def _G90(self, rest):
        self.relative = False
        self.relative_e = False

    def _G91(self, rest):
        self.relative = True
        self.relative_e = True

    def _M82(self, rest):
        self.relative_e = False

    def _M83(self, rest):
        self.relative_e = True

    def _G92(self, rest):
        params = parse_params(rest)
        for axis in "XYZE":
            if axis in params:
                self.position[axis] = params[axis] or 0.0

    # temperatures

    def _tool_heater(self, params):
        index = int(params["T"]) if params.get("T") is not None else self.active_tool
        if index >= self.options.extruder_count:
            self.io.emit(f"echo:T{index} Invalid extruder")
            return None
        return self.heaters.tools[index]

    def _set_target(self, heater, params):
        value = params.get("S") if params.get("S") is not None else params.get("R")
        if value is not None:
            heater.target = max(0.0, value)
        return value is not None

    def _wait_for(self, heater, params):
        cooling_too = params.get("R") is not None
        window = self.options.temperature_window

        def eta():
            edge = heater.target - window if heater.actual < heater.target else heater.target + window
            return abs(edge - heater.actual) / heater.rate

        return Wait(self.now, lambda: heater.reached(window, cooling_too),
                     lambda: f"{self.heaters.report(self.active_tool)} W:?", self.options.wait_report_interval, eta=eta)

    def _M104(self, rest):
        params = parse_params(rest)
        heater = self._tool_heater(params)
        if heater is not None:
            self._set_target(heater, params)

    def _M109(self, rest):
        params = parse_params(rest)
        heater = self._tool_heater(params)
        if heater is None or not self._set_target(heater, params):
            return None
        return self._wait_for(heater, params)

    def _M140(self, rest):
        self._set_target(self.heaters.bed, parse_params(rest))

    def _M190(self, rest):
        params = parse_params(rest)
        if not self._set_target(self.heaters.bed, params):
            return None
        return self._wait_for(self.heaters.bed, params)

    def _M141(self, rest):
        if self.heaters.chamber is None:
            return self._unknown("M141" + rest)
        self._set_target(self.heaters.chamber, parse_params(rest))

    def _M191(self, rest):
        if self.heaters.chamber is None:
            return self._unknown("M191" + rest)
        params = parse_params(rest)
        if not self._set_target(self.heaters.chamber, params):
            return None
        return self._wait_for(self.heaters.chamber, params)

    def _unknown(self, command):
        self.io.emit(f'echo:Unknown command: "{command}"')

    def _M105(self, rest):
        return "ok " + self.heaters.report(self.active_tool)

    def _M155(self, rest):
        if not self.options.autoreport_temp:
            return self._unknown("M155" + rest)
        seconds = parse_params(rest).get("S") or 0
        self.temp_interval = seconds
        self.next_temp_report = self.now + seconds if seconds > 0 else None

    # information

    def _M114(self, rest):
        p = self.position
        self.io.emit(f"X:{p['X']:.2f} Y:{p['Y']:.2f} Z:{p['Z']:.2f} E:{p['E']:.2f} Count X:{int(p['X'] * 80)} "
                     f"Y:{int(p['Y'] * 80)} Z:{int(p['Z'] * 400)}")

    def _M115(self, rest):
        o = self.options
        self.io.emit(f"FIRMWARE_NAME:{o.firmware_name} SOURCE_CODE_URL:github.com/MarlinFirmware/Marlin "
                     f"PROTOCOL_VERSION:1.0 MACHINE_TYPE:{o.machine_type} EXTRUDER_COUNT:{o.extruder_count} "
                     f"UUID:00000000-0000-4000-8000-{o.seed & 0xFFFFFFFFFFFF:012x}")
        caps = [("SERIAL_XON_XOFF", False), ("EEPROM", True), ("AUTOREPORT_POS", False),
                ("AUTOREPORT_TEMP", o.autoreport_temp), ("PROGRESS", True), ("PRINT_JOB", True),
                ("AUTOLEVEL", True), ("Z_PROBE", True), ("EMERGENCY_PARSER", o.emergency_parser),
                ("HOST_ACTION_COMMANDS", True), ("PROMPT_SUPPORT", False), ("SDCARD", o.sd_card),
                ("SD_WRITE", o.sd_card), ("AUTOREPORT_SD_STATUS", o.autoreport_sd and o.sd_card),
                ("LONG_FILENAME", o.sd_card), ("EXTENDED_M20", o.extended_m20 and o.sd_card),
                ("THERMAL_PROTECTION", True), ("CHAMBER_TEMPERATURE", o.has_chamber),
                ("ADVANCED_OK", o.advanced_ok), ("BUSY_PROTOCOL", o.busy_protocol)]
        for name, enabled in caps:
            self.io.emit(f"Cap:{name}:{1 if enabled else 0}")

    def _M110(self, rest):
        number = parse_params(rest).get("N")
        if number is not None:
            self.last_n = int(number)

    def _M113(self, rest):
        seconds = parse_params(rest).get("S")
        if seconds is None:
            self.io.emit(f"echo:M113 S{self.busy_interval:g}")
        else:
            self.busy_interval = seconds

    def _M117(self, rest):
        return None

    def _M118(self, rest):
        text = rest.strip()
        prefix = ""
        while text[:2].upper() in ("A1", "E1", "P0", "P1", "P2"):
            prefix = {"A": "// ", "E": "echo:"}.get(text[0].upper(), prefix)
            text = text[2:].lstrip()
        self.io.emit(prefix + text)

    def _M112(self, rest):
        self.halt()

    def _M108(self, rest):
        return None

    # SD card

    def _sd_ok(self):
        if not self.sd.ready:
            self.io.emit("echo:No media")
            return False
        return True

    def _sd_status(self):
        return f"SD printing byte {self.sd.position}/{self.sd.size}"

    def _M20(self, rest):
        if not self._sd_ok():
            return None
        long_names = self.options.extended_m20 and "L" in rest.upper()
        self.io.emit("Begin file list")
        for entry in self.sd.listing(long_names):
            self.io.emit(entry)
        self.io.emit("End file list")

    def _M21(self, rest):
        if self.sd.present:
            self.sd.ready = True
            self.io.emit("echo:SD card ok")
        else:
            self.io.emit("echo:SD init fail")

    def _M22(self, rest):
        if self.sd.present:
            self.sd.ready = False
            self.sd.selected, self.sd.printing, self.sd.position = None, False, 0
            self.io.emit("echo:SD card released")

    def _M23(self, rest):
        if not self._sd_ok():
            return None
        name = rest.strip()
        self.io.emit(f"echo:Now fresh file: {name}")
        long_name = self.sd.select(name)
        if long_name is None:
            self.io.emit(f"open failed, File: {name}.")
            return None
        self.io.emit(f"File opened: {self.sd.short_of(long_name)} Size: {self.sd.size}")
        self.io.emit("File selected")

    def _M24(self, rest):
        if self._sd_ok() and self.sd.selected is not None:
            if self.sd.position >= self.sd.size:
                self.sd.position = 0
            self.sd.printing = True

    def _M25(self, rest):
        self.sd.printing = False

    def _M26(self, rest):
        position = parse_params(rest).get("S")
        if self.sd.selected is not None and position is not None:
            self.sd.position = min(self.sd.size, max(0, int(position)))

    def _M27(self, rest):
        params = parse_params(rest)
        if "S" in params:
            if not self.options.autoreport_sd:
                return self._unknown("M27" + rest)
            seconds = params["S"] or 0
            self.sd_interval = seconds
            self.next_sd_report = self.now + seconds if seconds > 0 else None
            return None
        if self.sd.selected is not None and (self.sd.printing or self.sd.position > 0):
            self.io.emit(self._sd_status())
        else:
            self.io.emit("Not SD printing")

    def _M28(self, rest):
        if not self._sd_ok():
            return None
        name = rest.strip()
        self.sd.writing = (name, [])
        self.io.emit(f"Writing to file: {name}")

    def _M29(self, rest):
        if self.sd.writing is None:
            return None
        name, lines = self.sd.writing
        self.sd.writing = None
        self.sd.store(name, "".join(line + "\n" for line in lines).encode())
        self.io.emit("Done saving file.")

    def _M30(self, rest):
        if not self._sd_ok():
            return None
        name = rest.strip()
        if self.sd.delete(name):
            self.io.emit(f"File deleted:{name}")
        else:
            self.io.emit(f"Deletion failed, File: {name}.")
