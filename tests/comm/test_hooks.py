"""Every comm hook, end to end: real plugin files, MachineCom, the in-process virtual printer."""

import logging

from octohost.comm.virtual import VirtualOptions

RECORDER = '''
seen = []
def record(*args, **kwargs):
    seen.append((args[1:], kwargs))
'''


def seen(manager, plugin="p"):
    return manager.plugins[plugin].module.seen


def test_gcode_phases_rewrite_suppress_and_tag_file_lines(plugins, machine, tmp_path, wait_for):
    manager = plugins({"p.py": RECORDER + '''
def queuing(comm, phase, cmd, cmd_type, gcode, subcode=None, tags=None, *args, **kwargs):
    if gcode == "M107":
        return "M106 S0",
    if cmd.startswith("@double"):
        return [("M117 one",), "M117 two"]

def sending(comm, phase, cmd, cmd_type, gcode, subcode=None, tags=None, *args, **kwargs):
    if gcode == "M300":
        return None,

def sent(comm, phase, cmd, cmd_type, gcode, subcode=None, tags=None, *args, **kwargs):
    seen.append((cmd, sorted(tags)))

queued = []

__plugin_hooks__ = {
    "octoprint.comm.protocol.gcode.queuing": queuing,
    "octoprint.comm.protocol.gcode.queued": lambda comm, phase, cmd, *args, **kwargs: queued.append(cmd),
    "octoprint.comm.protocol.gcode.sending": sending,
    "octoprint.comm.protocol.gcode.sent": sent,
}
'''})
    (tmp_path / "part.gcode").write_text("G1 X1\nM107\nM300 S440\n@double\nG1 X2\n")
    comm, recorder = machine(plugin_manager=manager)
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_done"))
    accepted = comm.get_transport().accepted
    start = accepted.index("G1 X1")
    assert accepted[start:start + 5] == ["G1 X1", "M106 S0", "M117 one", "M117 two", "G1 X2"]
    file_sent = [entry for entry in seen(manager) if "source:file" in entry[1]]
    assert file_sent[0] == ("G1 X1", ["filepos:0", "source:file"])
    assert file_sent[1] == ("M106 S0", ["filepos:6", "phase:queuing", "plugin:p", "source:file", "source:rewrite"])
    queued = manager.plugins["p"].module.queued
    assert queued[queued.index("G1 X1"):][:6] == ["G1 X1", "M106 S0", "M300 S440", "M117 one", "M117 two", "G1 X2"]


def test_queued_phase_and_api_tags(plugins, machine, wait_for):
    manager = plugins({"p.py": RECORDER + '''
__plugin_hooks__ = {"octoprint.comm.protocol.gcode.queued": record}
'''})
    comm, _ = machine(plugin_manager=manager)
    comm.send_command("M117 hi", tags={"source:api", "api:printer.command"})
    wait_for(lambda: any(args[1] == "M117 hi" for args, _ in seen(manager)))
    [(args, kwargs)] = [entry for entry in seen(manager) if entry[0][1] == "M117 hi"]
    assert args == ("queued", "M117 hi", None, "M117")
    assert kwargs == {"subcode": None, "tags": {"source:api", "api:printer.command"}}


def test_atcommand_hooks_get_queuing_and_sending(plugins, machine, wait_for):
    manager = plugins({"p.py": RECORDER + '''
__plugin_hooks__ = {"octoprint.comm.protocol.atcommand.queuing": record,
                    "octoprint.comm.protocol.atcommand.sending": record}
'''})
    comm, _ = machine(plugin_manager=manager)
    comm.send_command("@custom one two", tags={"source:api"})
    wait_for(lambda: len(seen(manager)) == 2)
    assert [args for args, _ in seen(manager)] == [("queuing", "custom", "one two"), ("sending", "custom", "one two")]
    assert seen(manager)[0][1] == {"tags": {"source:api"}}
    assert not any("@custom" in line for line in comm.get_transport().accepted)


def test_received_hook_can_rewrite_and_drop_lines(plugins, machine, wait_for):
    manager = plugins({"p.py": '''
def received(comm, line, *args, **kwargs):
    if "Free Memory" in line:
        return None
    return line.replace("MACHINE_TYPE:Virtual Printer", "MACHINE_TYPE:Renamed")
__plugin_hooks__ = {"octoprint.comm.protocol.gcode.received": received}
'''})
    comm, recorder = machine(plugin_manager=manager)
    wait_for(lambda: comm.firmware_info)
    assert comm.firmware_info["MACHINE_TYPE"] == "Renamed"
    assert not any("Free Memory" in line for line in recorder.log)


def test_action_hook(plugins, machine, wait_for):
    manager = plugins({"p.py": RECORDER + '''
__plugin_hooks__ = {"octoprint.comm.protocol.action": record}
'''})
    comm, _ = machine(plugin_manager=manager)
    comm.get_transport().inject("// action:custom key value")
    wait_for(lambda: seen(manager))
    assert seen(manager) == [(("// action:custom key value", "custom key value"),
                              {"name": "custom", "params": "key value"})]


def test_error_hook_can_handle_an_error(plugins, machine, tmp_path, wait_for, write_gcode):
    manager = plugins({"p.py": '''
handled = []
def handle_error(comm, error_message, *args, **kwargs):
    if "fan error" in error_message.lower():
        handled.append(error_message)
        return True
__plugin_hooks__ = {"octoprint.comm.protocol.gcode.error": handle_error}
'''})
    write_gcode(tmp_path / "part.gcode", 20000)
    comm, recorder = machine(plugin_manager=manager, virtual=VirtualOptions(ok_delay=0.0005))
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    comm.get_transport().inject("Error:Fan Error on E0")
    wait_for(lambda: manager.plugins["p"].module.handled)
    comm.get_transport().inject("Error:Heater failure")
    wait_for(lambda: recorder.named("on_comm_print_job_cancelled"))
    assert manager.plugins["p"].module.handled == ["Fan Error on E0"]
    assert recorder.named("on_comm_print_job_cancelling")[0] == (("firmware_error", "Heater failure"),)


def test_firmware_hooks(plugins, machine, wait_for):
    manager = plugins({"p.py": '''
info, caps, report = [], [], []
__plugin_hooks__ = {
    "octoprint.comm.protocol.firmware.info": lambda comm, name, data, *a, **k: info.append((name, data)),
    "octoprint.comm.protocol.firmware.capabilities":
        lambda comm, cap, enabled, already, *a, **k: caps.append((cap, enabled, dict(already))),
    "octoprint.comm.protocol.firmware.capability_report":
        lambda comm, capabilities, *a, **k: report.append(capabilities),
}
'''})
    comm, _ = machine(plugin_manager=manager, virtual=VirtualOptions(advanced_ok=True))
    module = manager.plugins["p"].module
    wait_for(lambda: module.report)
    assert module.info[0][0].startswith("Marlin") and module.info[0][1]["PROTOCOL_VERSION"] == "1.0"
    assert module.caps[0] == ("SERIAL_XON_XOFF", False, {})
    assert module.caps[1] == ("EEPROM", True, {"SERIAL_XON_XOFF": False})
    assert module.report[0]["ADVANCED_OK"] is True and len(module.report[0]) == len(module.caps)


def test_temperatures_hook_can_filter(plugins, machine, wait_for):
    manager = plugins({"p.py": '''
def sanitize(comm, parsed_temps, *args, **kwargs):
    return {k: v for k, v in parsed_temps.items() if k != "B"}
__plugin_hooks__ = {"octoprint.comm.protocol.temperatures.received": sanitize}
'''})
    comm, recorder = machine(plugin_manager=manager)
    wait_for(lambda: recorder.named("on_comm_temperature_update"))
    assert set(recorder.named("on_comm_temperature_update")[-1][0]) == {"tool0"}


def test_scripts_hook_adds_prefix_postfix_variables_and_tags(plugins, machine, wait_for):
    manager = plugins({"p.py": RECORDER + '''
def scripts(comm, script_type, script_name, *args, **kwargs):
    if script_type == "gcode" and script_name == "afterPrinterConnected":
        return "M117 before", ["M117 after 1", "M117 after 2"], {"who": "plugin"}, {"my:tag"}
def sent(comm, phase, cmd, cmd_type, gcode, subcode=None, tags=None, *args, **kwargs):
    seen.append((cmd, tags))
__plugin_hooks__ = {"octoprint.comm.protocol.scripts": scripts, "octoprint.comm.protocol.gcode.sent": sent}
'''})
    contexts = []

    def renderer(name, context, comm):
        contexts.append(context)
        return [f"M117 hello {context.get('who')}"] if name == "afterPrinterConnected" else None

    comm, _ = machine(plugin_manager=manager, script_renderer=renderer)
    wait_for(lambda: "M117 after 2" in comm.get_transport().accepted)
    accepted = comm.get_transport().accepted
    start = accepted.index("M117 before")
    assert accepted[start:start + 4] == ["M117 before", "M117 hello plugin", "M117 after 1", "M117 after 2"]
    tags = dict(seen(manager))["M117 hello plugin"]
    assert {"source:script", "script:afterPrinterConnected", "my:tag"} <= tags


def test_serial_factory_hook_supplies_the_port(plugins, machine):
    manager = plugins({"p.py": '''
from octohost.comm.virtual import VirtualPrinter
made = []
def factory(comm, port, baudrate, read_timeout, *args, **kwargs):
    if port != "plugin:port":
        return None
    printer = VirtualPrinter()
    printer.timeout = read_timeout
    made.append(printer)
    return printer
__plugin_hooks__ = {"octoprint.comm.transport.serial.factory": factory}
'''})
    comm, _ = machine(port="plugin:port", plugin_manager=manager)
    assert comm.get_transport() is manager.plugins["p"].module.made[0]


def test_raising_and_slow_handlers_are_isolated_and_named(plugins, machine, wait_for, caplog):
    manager = plugins({"bad.py": '''
import time
slow = [True]
def received(comm, line, *args, **kwargs):
    if line.startswith("FIRMWARE_NAME"):
        raise RuntimeError("broken plugin")
    if slow and line == "ok":
        slow.clear()
        time.sleep(0.15)
    return line
__plugin_hooks__ = {"octoprint.comm.protocol.gcode.received": received}
'''})
    with caplog.at_level(logging.WARNING):
        comm, _ = machine(plugin_manager=manager)
        comm.send_command("M114")
        wait_for(lambda: "M114" in comm.get_transport().accepted)
    assert "plugin bad raised in the comm.protocol.gcode.received hook" in caplog.text
    assert "plugin bad took" in caplog.text
    assert comm.get_state() == "OPERATIONAL"


def test_serial_factory_hook_is_asked_with_auto_and_baud_rate_0_before_detection(plugins, machine):
    manager = plugins({"p.py": '''
from octohost.comm.virtual import VirtualPrinter
asked = []
def factory(comm, port, baudrate, read_timeout, *args, **kwargs):
    asked.append((port, baudrate))
    if port != "AUTO" or baudrate != 0:
        return None
    printer = VirtualPrinter()
    printer.timeout = read_timeout
    return printer
__plugin_hooks__ = {"octoprint.comm.transport.serial.factory": factory}
'''})
    comm, _ = machine(port="AUTO", baudrate=0, plugin_manager=manager)
    # the plugin found its printer itself: nothing was detected, no other port was tried
    assert manager.plugins["p"].module.asked == [("AUTO", 0)]
    assert comm.get_transport() is not None


PHASE_LOG = '''
log = []
def phase(comm, phase, cmd, cmd_type, gcode, subcode=None, tags=None, *args, **kwargs):
    log.append((phase, cmd))
    if phase == "queuing" and gcode == "M117" and "forced" in cmd:
        return "M117 forced, rewritten"
    if phase == "sending" and gcode == "M300":
        return None,

__plugin_hooks__ = {"octoprint.comm.protocol.gcode." + name: phase
                    for name in ("queuing", "queued", "sending", "sent")}
'''


def test_forced_commands_go_through_every_gcode_phase(plugins, machine, wait_for):
    manager = plugins({"p.py": PHASE_LOG})
    comm, _ = machine(plugin_manager=manager)
    assert comm.send_command("M117 forced", force=True)
    assert comm.send_command("M300 S440", force=True)  # suppressed in the sending phase
    wait_for(lambda: "M117 forced, rewritten" in comm.get_transport().accepted)
    log = manager.plugins["p"].module.log
    assert [entry for entry in log if "forced" in entry[1]] == [
        ("queuing", "M117 forced"), ("queued", "M117 forced, rewritten"), ("sending", "M117 forced, rewritten"),
        ("sent", "M117 forced, rewritten")]
    assert [phase for phase, cmd in log if cmd == "M300 S440"] == ["queuing", "queued", "sending"]
    assert "M300 S440" not in comm.get_transport().accepted


def test_m112_skips_every_gcode_phase(plugins, machine, wait_for):
    # pinned: the emergency stop goes out at once, past the queue and every plugin (a plugin must not
    # be able to delay or drop it), with heaters off after it; OctoPrint sends it past the queue too
    manager = plugins({"p.py": PHASE_LOG})
    comm, _ = machine(plugin_manager=manager)
    before = len(manager.plugins["p"].module.log)
    assert comm.send_command("M112", force=True)
    wait_for(lambda: comm.is_error() or comm.get_state() in ("CLOSED_WITH_ERROR", "CLOSED"))
    after = manager.plugins["p"].module.log[before:]
    assert not [entry for entry in after if entry[1].startswith(("M112", "M104", "M140"))]
