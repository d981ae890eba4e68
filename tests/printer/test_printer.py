"""The Printer against the in-process virtual printer."""

import threading
import types

import pytest
from printer_support import RecordingCallback, write_gcode

from octohost.comm.virtual import VirtualOptions
from octohost.printer.interface import InvalidFileLocation, InvalidFileType, UnknownScriptException

from support import wait_until

#: what the comm layer sends on its own (handshake, polls), ignored when checking what we sent
HOUSEKEEPING = {"M105", "M110", "M115", "M155", "M27", "M20", "M21"}


def marker_sync(stack, text):
    """Send a marker command and wait until the printer accepted it: everything before it was sent."""
    stack.printer.commands(f"M117 {text}")
    wait_until(lambda: f"M117 {text}" in stack.accepted(), message=f"M117 {text} accepted")


def test_connect_and_disconnect_events_and_connection(stack):
    printer = stack.printer
    assert printer.get_state_id() == "OPERATIONAL"
    assert printer.is_operational() and printer.is_ready() and not printer.is_printing()
    state, port, baudrate, profile = printer.get_current_connection()
    assert (state, port, baudrate, profile["id"]) == ("Operational", "VIRTUAL", 115200, "_default")
    printer.disconnect()
    stack.bus.flush()
    assert printer.get_current_connection() == ("Closed", None, None, None)
    assert printer.get_state_id() == "CLOSED" and printer.is_closed_or_error()
    names = stack.recorder.names()
    assert names.index("Connecting") < names.index("Connected") < names.index("Disconnected")
    assert stack.recorder.payloads("Connected")[0] == {"port": "VIRTUAL", "baudrate": 115200}
    assert {"state_id": "OPERATIONAL", "state_string": "Operational"} in stack.recorder.payloads("PrinterStateChanged")


def test_a_blocked_command_fires_command_suppressed_as_octoprint_does(stack):
    stack.printer.commands(["M1", "M117 after"])  # M1 would wait for a button press on the printer
    marker_sync(stack, "after")
    stack.bus.flush()
    assert "M1" not in stack.accepted()
    assert stack.recorder.payloads("CommandSuppressed") == [
        {"command": "M1", "message": "Not sending M1 to printer as it's configured as a blocked command",
         "severity": "warn"}]


def test_connection_options_answer_on_the_class_as_octoprints_classmethod(stack):
    # OctoPrint (and plugins) call printer.__class__.get_connection_options()
    options = type(stack.printer).get_connection_options()
    assert options == stack.printer.get_connection_options()
    assert "VIRTUAL" in options["ports"] and options["baudrates"]


def test_rates_below_ten_percent_reach_the_printer_as_octoprint_sends_them(stack):
    stack.printer.feed_rate(5)
    stack.printer.flow_rate(0.02)
    marker_sync(stack, "rates")
    assert {"M220 S5", "M221 S2"} <= set(stack.accepted())


def test_handle_connect_hook_can_stop_the_connect(make_stack):
    calls = []

    def handle_connect(*args, **kwargs):
        calls.append(kwargs)
        return True

    module = types.SimpleNamespace(__plugin_hooks__={"octoprint.printer.handle_connect": handle_connect})
    stack = make_stack(plugin_modules=[("powerswitch", module)])
    assert stack.printer.connect(port="VIRTUAL", baudrate=115200) is False
    assert calls == [{"port": "VIRTUAL", "baudrate": 115200, "profile": None}]
    assert stack.printer.get_transport() is None and stack.printer.is_closed_or_error()


def test_connect_rejects_unknown_profile(make_stack):
    stack = make_stack()
    with pytest.raises(ValueError, match="profile"):
        stack.printer.connect(port="VIRTUAL", baudrate=115200, profile="nope")


def test_manual_control_reaches_the_printer(stack):
    printer = stack.printer
    printer.set_temperature("tool0", 210)
    printer.set_temperature("bed", 60.5)
    printer.jog({"x": 10, "y": -5})
    printer.jog({"z": 20}, relative=False, speed=600)
    printer.home(["x", "y"])
    printer.extrude(5)
    printer.feed_rate(120)
    printer.flow_rate(0.95)
    printer.commands(["M106 S255", "  "])
    marker_sync(stack, "control-done")
    accepted = stack.accepted()
    expected = ["M104 S210", "M140 S60.5", "G91", "G0 X10 Y-5 F6000", "G90", "G90", "G0 Z20 F600", "G28 X0 Y0",
                "G91", "M83", "G1 E5 F300", "M82", "G90", "M220 S120", "M221 S95", "M106 S255"]
    start = accepted.index("M104 S210")
    assert accepted[start:start + len(expected)] == expected


@pytest.mark.parametrize("call", [
    lambda p: p.set_temperature("tool1", 200),
    lambda p: p.set_temperature("chamber", 40),
    lambda p: p.set_temperature("tool0", -10),
    lambda p: p.jog({"a": 1}),
    lambda p: p.jog({"x": 500}, relative=False),
    lambda p: p.home("w"),
    lambda p: p.extrude("5"),
    lambda p: p.feed_rate(1000),
    lambda p: p.flow_rate("fast"),
    lambda p: p.change_tool("tool3"),
    lambda p: p.commands([1, 2]),
    lambda p: p.set_temperature_offset({"tool0": 500}),
])
def test_bad_input_raises_before_sending(stack, call):
    before = len(stack.accepted())
    with pytest.raises(ValueError):
        call(stack.printer)
    marker_sync(stack, "after-bad-input")
    assert [c for c in stack.accepted()[before:] if c.split()[0] not in HOUSEKEEPING] == ["M117 after-bad-input"]


def test_unknown_script_and_script_sent(stack):
    with pytest.raises(UnknownScriptException):
        stack.printer.script("noSuchScript")
    stack.printer.scripts.save_source("wave", "M117 hello {{ who }}")
    stack.printer.script("wave", context={"who": "world"})
    wait_until(lambda: "M117 hello world" in stack.accepted())


def test_select_file_validation(stack):
    write_gcode(stack.uploads / "ok.gcode", lines=5)
    (stack.uploads / "notes.txt").write_text("hi")
    with pytest.raises(InvalidFileType):
        stack.printer.select_file("notes.txt", False)
    with pytest.raises(InvalidFileLocation):
        stack.printer.select_file("../outside.gcode", False)
    with pytest.raises(InvalidFileLocation):
        stack.printer.select_file("/etc/passwd", False)
    with pytest.raises(InvalidFileLocation):
        stack.printer.select_file("missing.gcode", False)
    assert stack.printer.select_file(str(stack.uploads / "ok.gcode"), False) is True
    assert stack.printer.is_current_file("ok.gcode", False)
    assert stack.printer.get_current_job()["file"]["name"] == "ok.gcode"
    stack.printer.unselect_file()
    wait_until(lambda: stack.printer.get_current_job()["file"]["name"] is None)
    stack.bus.flush()
    assert stack.recorder.names().count("FileSelected") == 1 and "FileDeselected" in stack.recorder.names()


def test_print_start_to_done(make_stack):
    stack = make_stack(virtual_options=VirtualOptions(time_scale=50.0, ok_delay=0.002))
    stack.connect()
    callback = RecordingCallback()
    stack.printer.register_callback(callback)
    write_gcode(stack.uploads / "folder" / "part.gcode", lines=1200)
    assert stack.printer.select_file("folder/part.gcode", False, printAfterSelect=True)
    wait_until(lambda: "PrintDone" in stack.recorder.names(), timeout=60)
    stack.printer.flush()
    stack.bus.flush()
    stack.printer.wait_for_callbacks()

    names = [n for n in stack.recorder.names() if n in ("FileSelected", "PrintStarted", "PrintDone", "PrintFailed")]
    assert names == ["FileSelected", "PrintStarted", "PrintDone"]
    done = stack.recorder.payloads("PrintDone")[0]
    assert (done["name"], done["path"], done["origin"]) == ("part.gcode", "folder/part.gcode", "local")
    assert done["size"] == (stack.uploads / "folder" / "part.gcode").stat().st_size and done["time"] > 0
    assert "G1 X99 Y93 E59.95 F3000" in stack.accepted()

    row = stack.history.list()[0]
    assert (row["path"], row["origin"], row["result"]) == ("folder/part.gcode", "local", "done")
    assert row["duration"] > 0
    assert stack.printer.get_recovery_data() is None

    pushes = [t for t, _ in callback.current]
    span = pushes[-1] - pushes[0]
    assert len(pushes) >= 2
    assert len(pushes) <= 2 * span + 2
    assert all(b - a >= 0.45 for a, b in zip(pushes, pushes[1:], strict=False))
    printing = [data for _, data in callback.current if data["state"]["flags"]["printing"]]
    assert printing and printing[-1]["progress"]["printTimeLeftOrigin"] in ("linear", "estimate")
    assert printing[-1]["job"]["file"]["path"] == "folder/part.gcode"
    assert set(printing[-1]["resends"]) == {"count", "transmitted", "ratio"}


def test_pause_resume_cancel_with_scripts(make_stack):
    stack = make_stack(virtual_options=VirtualOptions(time_scale=50.0, ok_delay=0.005))
    stack.connect()
    write_gcode(stack.uploads / "long.gcode", lines=5000)
    stack.printer.select_file("long.gcode", False, printAfterSelect=True)
    wait_until(stack.printer.is_printing)
    assert not stack.printer.can_modify_file("long.gcode", False)
    stack.printer.scripts.save_source("afterPrintPaused", "M117 paused {{ printer_profile.name }}")
    stack.printer.pause_print()
    wait_until(stack.printer.is_paused)
    assert stack.printer.get_state_id() == "PAUSED"
    wait_until(lambda: "M117 paused Default" in stack.accepted())
    stack.printer.toggle_pause_print()
    wait_until(lambda: stack.printer.get_state_id() == "PRINTING")
    stack.printer.cancel_print()
    wait_until(lambda: "PrintCancelled" in stack.recorder.names(), timeout=20)
    wait_until(lambda: "M84" in stack.accepted())
    accepted = stack.accepted()
    tail = accepted[accepted.index("M104 S0"):]
    assert tail[:4] == ["M104 S0", "M140 S0", "M106 S0", "M84"]
    stack.printer.flush()
    stack.bus.flush()
    names = stack.recorder.names()
    assert (names.index("PrintStarted") < names.index("PrintPaused") < names.index("PrintResumed")
            < names.index("PrintCancelled"))
    assert stack.history.list()[0]["result"] == "cancelled"
    assert stack.printer.get_recovery_data() is None
    assert stack.printer.can_modify_file("long.gcode", False)


def test_job_on_hold_blocks_the_job(make_stack):
    stack = make_stack(virtual_options=VirtualOptions(time_scale=50.0, ok_delay=0.002))
    stack.connect()
    write_gcode(stack.uploads / "hold.gcode", lines=3000)
    stack.printer.select_file("hold.gcode", False, printAfterSelect=True)
    wait_until(lambda: len(stack.accepted()) > 50)
    with stack.printer.job_on_hold():
        marker_sync(stack, "parked")
        count = len(stack.accepted())
        marker_sync(stack, "still-parked")
        assert [c for c in stack.accepted()[count:] if c.split()[0] not in HOUSEKEEPING] == ["M117 still-parked"]
        outcomes = []

        def contend():
            outcomes.append(stack.printer.set_job_on_hold(True, blocking=False))
            try:
                with stack.printer.job_on_hold(blocking=False):
                    outcomes.append("held")
            except RuntimeError:
                outcomes.append("refused")

        thread = threading.Thread(target=contend)
        thread.start()
        thread.join()
        assert outcomes == [False, "refused"]
    wait_until(lambda: len(stack.accepted()) > count + 5)
    stack.printer.cancel_print()
    wait_until(lambda: "PrintCancelled" in stack.recorder.names(), timeout=20)


def test_temperature_offsets_applied_to_file_lines(make_stack):
    stack = make_stack()
    stack.connect()
    write_gcode(stack.uploads / "temps.gcode", lines=3, header=["M104 S200", "M140 S60", "M104 S0"])
    stack.printer.set_temperature_offset({"tool0": 5, "bed": -2})
    assert stack.printer.get_current_data()["offsets"] == {"tool0": 5, "bed": -2}
    stack.printer.set_temperature("tool0", 180)
    stack.printer.select_file("temps.gcode", False, printAfterSelect=True)
    wait_until(lambda: "PrintDone" in stack.recorder.names(), timeout=30)
    accepted = stack.accepted()
    assert "M104 S180" in accepted
    assert "M104 S205" in accepted and "M140 S58" in accepted and "M104 S0" in accepted
    assert "M104 S200" not in accepted
    stack.printer.set_temperature_offset({"tool0": 0, "bed": 0})
    # ended, and still listed with 0 as OctoPrint's state data lists every offset given
    assert stack.printer.get_current_data()["offsets"] == {"tool0": 0, "bed": 0}
    stack.printer.select_file("temps.gcode", False, printAfterSelect=True)
    wait_until(lambda: stack.recorder.names().count("PrintDone") == 2, timeout=30)
    assert stack.accepted().count("M104 S200") == 1


def test_current_data_structure_and_initial_data(stack):
    callback = RecordingCallback()
    stack.printer.log_lines("hello from a test")
    wait_until(lambda: stack.printer.get_temperature_history())
    stack.printer.register_callback(callback)
    assert stack.printer.wait_for_callbacks()
    initial = callback.initial[0]
    assert {"temps", "logs", "messages", "state", "job", "progress", "currentZ", "offsets", "resends"} <= set(initial)
    assert "hello from a test" in initial["logs"]
    assert initial["temps"][0]["tool0"]["actual"] is not None and "time" in initial["temps"][0]
    data = stack.printer.get_current_data()
    assert data["state"]["text"] == "Operational"
    assert set(data["state"]["flags"]) >= {"operational", "printing", "cancelling", "pausing", "closedOrError",
                                            "error", "paused", "ready", "sdReady", "finishing"}
    assert set(data["progress"]) == {"completion", "filepos", "printTime", "printTimeLeft", "printTimeLeftOrigin"}
    assert "tool0" in stack.printer.get_current_temperatures()
    wait_until(lambda: callback.temperatures)
    stack.printer.unregister_callback(callback)


def test_additional_state_data_hook(make_stack):
    module = types.SimpleNamespace(__plugin_hooks__={
        "octoprint.printer.additional_state_data": lambda initial=False, **kw: {"initial": initial}})
    stack = make_stack(plugin_modules=[("extra", module)])
    callback = RecordingCallback()
    stack.printer.register_callback(callback)
    assert stack.printer.wait_for_callbacks()
    assert callback.initial[0]["plugins"] == {"extra": {"initial": True}}
    assert stack.printer.get_current_data()["plugins"] == {"extra": {"initial": False}}


def test_messages_and_registered_messages_reach_callbacks(stack):
    callback = RecordingCallback()
    stack.printer.register_callback(callback)
    stack.printer.on_comm_registered_message("feedback", "42")
    stack.printer.commands("M117 Hello display")
    wait_until(lambda: callback.logs and any("M117 Hello display" in line for line in callback.logs))
    wait_until(lambda: callback.registered == [("feedback", "42")])


def test_disconnect_mid_print_fails_job_and_keeps_recovery(make_stack):
    stack = make_stack(virtual_options=VirtualOptions(time_scale=50.0, ok_delay=0.002))
    stack.connect()
    write_gcode(stack.uploads / "cut.gcode", lines=5000)
    stack.printer.select_file("cut.gcode", False, printAfterSelect=True)
    wait_until(lambda: len(stack.accepted()) > 300)
    stack.printer.disconnect()
    stack.printer.flush()
    stack.bus.flush()
    failed = stack.recorder.payloads("PrintFailed")
    assert len(failed) == 1 and "disconnected" in failed[0]["reason"]
    data = stack.printer.get_recovery_data()
    assert (data["path"], data["origin"]) == ("cut.gcode", "local") and "disconnected" in data["reason"]
    assert 0 < data["pos"] < (stack.uploads / "cut.gcode").stat().st_size
    row = stack.history.list()[0]
    assert row["result"] == "failed" and "disconnected" in row["reason"]


def test_scripts_see_fan_speed_position_and_profile(stack):
    stack.printer.commands(["M106 S128", "M114"])
    marker_sync(stack, "fan")
    wait_until(lambda: stack.bus.flush() and "PositionUpdate" in stack.recorder.names())
    stack.printer.scripts.save_source("report",
                                      "M117 {{ printer_profile.id }} fan {{ last_fanspeed }} x {{ last_position.x }}")
    stack.printer.script("report")
    wait_until(lambda: "M117 _default fan 128 x 0.0" in stack.accepted(),
               message=lambda: f"the report; last accepted {stack.accepted()[-5:]}")


def test_blocked_callback_does_not_hold_up_the_print(make_stack):
    stack = make_stack(virtual_options=VirtualOptions(time_scale=50.0))
    stack.connect()
    gate = threading.Event()

    class Stuck(RecordingCallback):
        def on_printer_add_log(self, data):
            gate.wait(30)
            super().on_printer_add_log(data)

    stuck, healthy = Stuck(), RecordingCallback()
    stack.printer.register_callback(stuck)
    stack.printer.register_callback(healthy)
    write_gcode(stack.uploads / "busy.gcode", lines=500)
    try:
        stack.printer.select_file("busy.gcode", False, printAfterSelect=True)
        wait_until(lambda: "PrintDone" in stack.recorder.names(), timeout=30)
        wait_until(lambda: any("G1 X99 Y93" in line for line in healthy.logs))
        assert len(stuck.logs) == 0
    finally:
        gate.set()
    assert stack.printer.wait_for_callbacks(10)
    assert len(stuck.logs) > 0


def test_connection_options(make_stack):
    stack = make_stack()
    stack.settings.set("serial.port", "VIRTUAL")
    stack.settings.set("serial.additionalBaudrates", [500000])
    stack.profiles.save({"id": "mk3", "name": "MK3"}, make_default=True)
    options = stack.printer.get_connection_options()
    assert "VIRTUAL" in options["ports"]
    assert options["baudrates"][0] == 500000 and 115200 in options["baudrates"]
    preferences = (options["portPreference"], options["baudratePreference"], options["autoconnect"])
    assert preferences == ("VIRTUAL", 115200, False)
    assert options["printerProfilePreference"] == "mk3"
    assert {"id": "mk3", "name": "MK3"} in options["printerProfiles"]


def test_firmware_info_and_event(stack):
    wait_until(lambda: stack.printer.get_firmware_info() is not None)
    info = stack.printer.get_firmware_info()
    assert info["name"].startswith("Marlin") and info["capabilities"]
    stack.bus.flush()
    assert stack.recorder.payloads("FirmwareData")[0]["name"] == info["name"]


def test_z_changes_and_reprint(make_stack):
    stack = make_stack()
    stack.connect()
    write_gcode(stack.uploads / "layers.gcode", lines=10, header=["G1 Z0.2", "G1 X1", "G1 Z0.4"])
    stack.printer.select_file("layers.gcode", False, printAfterSelect=True)
    wait_until(lambda: "PrintDone" in stack.recorder.names(), timeout=30)
    wait_until(lambda: stack.printer.get_current_data()["currentZ"] == 0.4)
    wait_until(stack.printer.is_ready)
    assert stack.printer.start_print() is True
    wait_until(lambda: stack.recorder.names().count("PrintDone") == 2, timeout=30)
    stack.printer.flush()
    stack.bus.flush()
    assert [p["new"] for p in stack.recorder.payloads("ZChange")][:2] == [0.2, 0.4]
    assert [row["result"] for row in stack.history.list()] == ["done", "done"]
    assert stack.printer.get_current_job()["file"]["date"] is not None


def test_scripts_hook_from_plugin_file_reaches_the_printer(make_stack, tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "greeter.py").write_text(
        "def scripts(comm, script_type, script_name, *args, **kwargs):\n"
        "    if script_type == 'gcode' and script_name == 'afterPrintDone':\n"
        "        return ['M117 before'], 'M117 after', {'who': 'plugin'}\n"
        "__plugin_hooks__ = {'octoprint.comm.protocol.scripts': scripts}\n")
    stack = make_stack()
    stack.connect()
    stack.printer.scripts.save_source("afterPrintDone", "M117 done by {{ who }}")
    write_gcode(stack.uploads / "short.gcode", lines=3)
    stack.printer.select_file("short.gcode", False, printAfterSelect=True)
    wait_until(lambda: "M117 after" in stack.accepted(), timeout=30)
    accepted = stack.accepted()
    start = accepted.index("M117 before")
    assert accepted[start:start + 3] == ["M117 before", "M117 done by plugin", "M117 after"]


def test_print_resumes_from_a_recovered_position(make_stack):
    stack = make_stack()
    stack.connect()
    path = write_gcode(stack.uploads / "resume.gcode", lines=40)
    lines = path.read_bytes().splitlines(keepends=True)
    pos = sum(len(line) for line in lines[:30])
    stack.printer.select_file("resume.gcode", False, printAfterSelect=True, pos=pos)
    wait_until(lambda: "PrintDone" in stack.recorder.names(), timeout=30)
    accepted = stack.accepted()
    assert lines[30].decode().strip() in accepted and lines[29].decode().strip() not in accepted
    with pytest.raises(ValueError):
        stack.printer.select_file("resume.gcode", False, printAfterSelect=True, pos=-1)


def test_jobs_refused_in_the_wrong_state(make_stack):
    stack = make_stack(virtual_options=VirtualOptions(time_scale=50.0, ok_delay=0.005))
    write_gcode(stack.uploads / "a.gcode", lines=2000)
    write_gcode(stack.uploads / "b.gcode", lines=5)
    assert stack.printer.select_file("a.gcode", False) is False
    stack.connect()
    assert stack.printer.start_print() is False
    stack.printer.select_file("a.gcode", False, printAfterSelect=True)
    wait_until(stack.printer.is_printing)
    assert stack.printer.select_file("b.gcode", False) is False
    assert stack.printer.start_print() is False
    assert stack.printer.is_current_file("a.gcode", False)
    stack.printer.cancel_print()
    wait_until(lambda: "PrintCancelled" in stack.recorder.names(), timeout=20)


def test_progress_is_100_after_done_and_empty_after_cancel(make_stack):
    """As OctoPrint: a finished job reports 100% at the file's end even when comments follow its
    last command (they are never sent), and a cancelled job no progress at all."""
    stack = make_stack(virtual_options=VirtualOptions(time_scale=50.0, ok_delay=0.002))
    stack.connect()
    path = write_gcode(stack.uploads / "tail.gcode", lines=100, footer=["; the end"] + ["; comment"] * 20)
    stack.printer.select_file("tail.gcode", False, printAfterSelect=True)
    wait_until(lambda: "PrintDone" in stack.recorder.names(), timeout=60)
    progress = stack.printer.get_current_data()["progress"]
    assert progress["completion"] == 100.0 and progress["filepos"] == path.stat().st_size
    assert progress["printTimeLeft"] == 0 and progress["printTime"] is not None

    write_gcode(stack.uploads / "long.gcode", lines=5000)
    stack.printer.select_file("long.gcode", False, printAfterSelect=True)
    wait_until(lambda: (stack.printer.get_current_data()["progress"]["completion"] or 0) > 0)
    assert stack.printer.get_current_data()["progress"]["completion"] < 100
    stack.printer.cancel_print()
    wait_until(lambda: "PrintCancelled" in stack.recorder.names(), timeout=20)
    wait_until(lambda: set(stack.printer.get_current_data()["progress"].values()) == {None})


def test_each_printer_method_tags_what_it_sends_as_octoprint_does(make_stack):
    """``trigger:printer.<method>`` on every line a method sends, and ``trigger:printer.commands`` on
    everything that goes through ``commands`` (OctoPrint's printer does the same)."""
    seen = []

    def record(comm, phase, cmd, cmd_type, gcode, subcode=None, tags=None, **kwargs):
        seen.append((cmd, set(tags or ())))

    module = types.SimpleNamespace(__plugin_hooks__={"octoprint.comm.protocol.gcode.queuing": record})
    stack = make_stack(plugin_modules=[("recorder", module)])
    stack.connect()
    printer = stack.printer
    printer.home(["x"], tags={"source:test"})
    printer.set_temperature("tool0", 0)
    printer.feed_rate(100)
    printer.commands("M117 plain")
    expected = {"G28 X0": {"source:test", "trigger:printer.home", "trigger:printer.commands"},
                "M104 S0": {"trigger:printer.set_temperature", "trigger:printer.commands"},
                "M220 S100": {"trigger:printer.feed_rate", "trigger:printer.commands"},
                "M117 plain": {"trigger:printer.commands"}}
    wait_until(lambda: set(expected) <= {cmd for cmd, _ in seen}, message=lambda: f"the commands; got {seen}")
    for cmd, tags in seen:
        if cmd in expected:
            assert tags == expected[cmd], cmd
