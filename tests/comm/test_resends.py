"""Resend handling against a scripted firmware: what Marlin does not do, other firmware does."""

import collections
import threading

from octohost.comm.machine import MachineCom


class ScriptedFirmware:
    """A serial-like port that answers ``ok`` to every line, except as ``rules`` say.

    ``rules(line) -> list of answer lines or None`` (None: just "ok").
    """

    timeout = 0.02

    def __init__(self, rules=None):
        self.rules = rules or (lambda line: None)
        self.lines = []
        self._out = bytearray()
        self._cond = threading.Condition()
        self.is_open = True

    @property
    def in_waiting(self):
        return len(self._out)

    def write(self, data):
        for line in data.decode().splitlines():
            self.lines.append(line)
            answer = self.rules(line)
            with self._cond:
                self._out += "".join(a + "\n" for a in (answer if answer is not None else ["ok"])).encode()
                self._cond.notify_all()
        return len(data)

    def read(self, size=1):
        with self._cond:
            if not self._out:
                self._cond.wait(self.timeout)
            data = bytes(self._out[:size])
            del self._out[:size]
            return data

    def close(self):
        self.is_open = False


def connect(firmware, recorder, settings, **options):
    comm = MachineCom("scripted", 115200, recorder, settings, options=options,
                      transport_factory=lambda port, baudrate: firmware)
    comm.connect()
    return comm


def body(line):
    """The command of a framed line: ``N5 G1 X1*12`` -> ``G1 X1``."""
    return line.split(" ", 1)[1].rsplit("*", 1)[0] if line.startswith("N") else line


def test_resend_without_ok_continues_after_the_resend_ok_timeout(settings, recorder, tmp_path, wait_for,
                                                                write_gcode):
    commands = write_gcode(tmp_path / "part.gcode", 50)
    rejected = []

    def rules(line):
        if "G1 X10.0" in line and not rejected:
            rejected.append(line)
            return ["Error:checksum mismatch, Last Line: 0", "Resend: " + line.split()[0][1:]]  # and no ok
        return None

    firmware = ScriptedFirmware(rules)
    comm = connect(firmware, recorder, settings, timeout_resend_ok=0.1)
    try:
        wait_for(lambda: comm.get_state() == "OPERATIONAL")
        comm.select_file(str(tmp_path / "part.gcode"), False)
        comm.start_print()
        wait_for(lambda: recorder.named("on_comm_print_job_done"), message="job done")
        sent_moves = [body(line) for line in firmware.lines if "G1 " in line]
        assert sent_moves.count(commands[10]) == 2  # the rejected line, once more
        assert [move for i, move in enumerate(sent_moves) if i != sent_moves.index(commands[10])] == commands
        assert "No ok after the resend request, continuing without it" in recorder.log
    finally:
        comm.close()


def test_never_send_checksum_sends_plain_lines_but_numbers_m110(settings, recorder, wait_for):
    firmware = ScriptedFirmware()
    comm = connect(firmware, recorder, settings, never_send_checksum=True)
    try:
        wait_for(lambda: comm.get_state() == "OPERATIONAL")
        comm.send_command("G28")
        comm.send_command("M110 N7")
        wait_for(lambda: len(firmware.lines) >= 5)
        assert firmware.lines[0] == "N0 M110 N0*125"
        assert "G28" in firmware.lines
        assert any(line.startswith("N7 M110 N7*") for line in firmware.lines)
    finally:
        comm.close()


def test_resend_with_several_lines_in_flight_rewinds_once(settings, recorder, tmp_path, wait_for, write_gcode):
    """Marlin answers every line after a bad one with another "Resend: <bad>": only the first rewinds."""
    commands = write_gcode(tmp_path / "part.gcode", 40)
    state = {"last": 0, "bad_once": True}

    def rules(line):
        number = int(line.split()[0][1:])
        if "M110" in line:
            state["last"] = number
            return None
        if number != state["last"] + 1:
            return [f"Error:Line Number is not Last Line Number+1, Last Line: {state['last']}",
                    f"Resend: {state['last'] + 1}", "ok"]
        if "G1 X5.5" in line and state["bad_once"]:
            state["bad_once"] = False
            return [f"Error:checksum mismatch, Last Line: {state['last']}", f"Resend: {number}", "ok"]
        state["last"] = number
        return None

    firmware = ScriptedFirmware(rules)
    comm = connect(firmware, recorder, settings, window="rx-bytes", rx_buffer_size=400)
    try:
        wait_for(lambda: comm.get_state() == "OPERATIONAL")
        comm.select_file(str(tmp_path / "part.gcode"), False)
        comm.start_print()
        wait_for(lambda: recorder.named("on_comm_print_job_done"), message="job done")
        bad_index = next(i for i, line in enumerate(firmware.lines) if "G1 X5.5" in line)
        accepted = []
        last = 0
        for index, line in enumerate(firmware.lines):  # replay what the firmware accepted
            number = int(line.split()[0][1:])
            if "M110" in line:
                last = number
            elif number == last + 1 and index != bad_index:
                last = number
                accepted.append(body(line))
        assert [a for a in accepted if a.startswith("G1 ")] == commands
        resent = [line for line in recorder.log if line.startswith("Resend: ")]
        assert len(resent) == len(set(resent))  # every line resent once, no double rewinds
    finally:
        comm.close()



class StallingFirmware(ScriptedFirmware):
    """Answers every line in order (M105 with ``ok T:...``), but holds all answers during one stall.

    The stall starts at the line containing ``stall_at`` and lasts ``seconds``: longer than the
    host's communication timeout, like a board (or a host) that stops for a moment. It records
    the most job lines the host ever had written without having read their answers.
    """

    def __init__(self, stall_at, seconds):
        super().__init__()
        self.stall_at = stall_at
        self.seconds = seconds
        self.held = None  # answers waiting while stalled
        self.stalled = False
        self.unread = collections.deque()  # per answer line not yet read by the host: for a move?
        self.moves_in_flight = 0
        self.most_moves_in_flight = 0
        self.timer = None

    def write(self, data):
        for line in data.decode().splitlines():
            self.lines.append(line)
            move = "G1 " in line
            answer = "ok T:21.0 /0.0 B:20.0 /0.0" if "M105" in line else "ok"
            with self._cond:
                self.moves_in_flight += move
                self.most_moves_in_flight = max(self.most_moves_in_flight, self.moves_in_flight)
                if not self.stalled and self.stall_at in line:
                    self.stalled = True
                    self.held = []
                    self.timer = threading.Timer(self.seconds, self._release)
                    self.timer.start()
                if self.held is not None:
                    self.held.append((move, answer))
                else:
                    self._answer(move, answer)
        return len(data)

    def _answer(self, move, answer):
        self.unread.append(move)
        self._out += (answer + "\n").encode()
        self._cond.notify_all()

    def _release(self):
        with self._cond:
            for move, answer in self.held:
                self._answer(move, answer)
            self.held = None

    def read(self, size=1):
        data = super().read(size)
        with self._cond:
            for _ in range(data.count(b"\n")):
                self.moves_in_flight -= self.unread.popleft()
        return data


def test_late_oks_after_timeouts_grant_no_extra_credit(settings, recorder, tmp_path, wait_for, write_gcode):
    """A stall of several timeouts: the tickles' oks must not let more than one line into flight."""
    commands = write_gcode(tmp_path / "part.gcode", 60)
    firmware = StallingFirmware(stall_at=commands[10], seconds=0.4)
    comm = connect(firmware, recorder, settings, timeout_communication=0.05, max_timeouts_printing=0)
    try:
        wait_for(lambda: comm.get_state() == "OPERATIONAL")
        wait_for(lambda: comm.sender.window.typed_oks, message="an M105 answered")  # the first poll
        comm.select_file(str(tmp_path / "part.gcode"), False)
        comm.start_print()
        wait_for(lambda: recorder.named("on_comm_print_job_done"), message="job done")
        assert sum("Communication timeout" in line for line in recorder.log) >= 2  # the stall really hit
        assert firmware.most_moves_in_flight == 1
        assert [body(line) for line in firmware.lines if "G1 " in line] == commands
        assert comm.sender.in_flight() == 0
    finally:
        comm.close()
        firmware.timer.cancel()


def test_an_injected_transport_factory_serves_detection_too(settings, recorder, wait_for):
    """Baud rate 0 means detect: the factory is asked for each candidate until one answers."""
    firmware = ScriptedFirmware()
    asked = []

    def factory(port, baudrate):
        asked.append((port, baudrate))
        return firmware

    comm = MachineCom("scripted", 0, recorder, settings, transport_factory=factory)
    comm.connect()
    try:
        wait_for(lambda: comm.get_state() == "OPERATIONAL", message="OPERATIONAL")
        assert len(asked) == 1 and asked[0][0] == "scripted"  # the first candidate answered
        assert comm.baudrate == asked[0][1] and comm.get_transport() is firmware
        assert "DETECT_BAUDRATE" in recorder.states
    finally:
        comm.close()
