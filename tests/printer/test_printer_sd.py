"""SD card files through the Printer: list, select, print, upload (default M28/M29 and the hook)."""

import types

from printer_support import write_gcode

from octohost.comm.virtual import VirtualOptions

from support import wait_until

SD_FILE = ("".join(f"G1 X{i % 50} Y{i % 30}\n" for i in range(400))).encode()


def sd_stack(make_stack, **kwargs):
    options = VirtualOptions(time_scale=50.0, sd_files={"Calibration Cube.gcode": SD_FILE})
    stack = make_stack(virtual_options=options, **kwargs)
    stack.connect()
    stack.printer.init_sd_card()
    wait_until(lambda: stack.printer.is_sd_ready() and stack.printer.get_sd_files())
    return stack


def test_sd_files_listed_selected_and_printed(make_stack):
    stack = sd_stack(make_stack)
    files = stack.printer.get_sd_files()
    assert files[0]["display"] == "Calibration Cube.gcode" and files[0]["size"] == len(SD_FILE)
    assert stack.printer.get_current_data()["state"]["flags"]["sdReady"] is True
    name = files[0]["name"]
    assert stack.printer.select_file(name, True, printAfterSelect=True)
    wait_until(lambda: "PrintDone" in stack.recorder.names(), timeout=30)
    stack.printer.flush()
    stack.bus.flush()
    started = stack.recorder.payloads("PrintStarted")[0]
    assert (started["origin"], started["path"]) == ("sdcard", name)
    assert stack.history.list()[0]["origin"] == "sdcard" and stack.history.list()[0]["result"] == "done"
    assert {"M23 " + name, "M24"} <= set(stack.accepted())


def test_upload_to_sd_by_streaming(make_stack, tmp_path):
    stack = sd_stack(make_stack)
    local = write_gcode(tmp_path / "upload me.gcode", lines=20)
    outcome = []
    remote = stack.printer.add_sd_file("upload me.gcode", str(local),
                                       on_success=lambda *args: outcome.append(("ok", args[1])))
    assert remote == "UPLOADME.GCO"
    wait_until(lambda: outcome == [("ok", "UPLOADME.GCO")], timeout=30)
    wait_until(lambda: "UPLOADME.GCO" in stack.virtual.sd_files)
    stored = stack.virtual.sd_files["UPLOADME.GCO"].decode()
    assert "G1 X19 Y33 E0.95 F3000" in stored and "; generated" not in stored
    stack.bus.flush()
    assert "TransferStarted" in stack.recorder.names() and "TransferDone" in stack.recorder.names()


def test_upload_hook_takes_over(make_stack, tmp_path):
    seen = []

    def upload(printer, filename, path, started, succeeded, failed, *args, **kwargs):
        remote = printer._get_free_remote_name(filename)
        seen.append((filename, path, remote))
        started(filename, remote)
        succeeded(filename, remote, 0.5)
        return remote

    module = types.SimpleNamespace(__plugin_hooks__={"octoprint.printer.sdcardupload": upload})
    stack = sd_stack(make_stack, plugin_modules=[("uploader", module)])
    local = write_gcode(tmp_path / "hooked.gcode", lines=5)
    assert stack.printer.add_sd_file("hooked.gcode", str(local)) == "HOOKED.GCO"
    assert seen == [("hooked.gcode", str(local), "HOOKED.GCO")]
    stack.bus.flush()
    assert stack.recorder.payloads("TransferDone") == [{"local": "hooked.gcode", "remote": "HOOKED.GCO", "time": 0.5}]
    assert not any(command.startswith("M28") for command in stack.accepted())


def test_sd_commands_carry_the_printers_and_the_comms_trigger_tags(make_stack):
    """As OctoPrint's: the caller's tags, ``trigger:printer.<method>`` and ``trigger:comm.<method>``
    on the line each SD method sends."""
    seen = []

    def record(comm, phase, cmd, cmd_type, gcode, subcode=None, tags=None, **kwargs):
        seen.append((cmd, set(tags or ())))

    module = types.SimpleNamespace(__plugin_hooks__={"octoprint.comm.protocol.gcode.queuing": record})
    stack = sd_stack(make_stack, plugin_modules=[("recorder", module)])
    name = stack.printer.get_sd_files()[0]["name"]
    seen.clear()
    caller = {"source:test"}
    stack.printer.refresh_sd_files(tags=caller)
    stack.printer.delete_sd_file(name, tags=caller)
    stack.printer.release_sd_card(tags=caller)
    stack.printer.init_sd_card(tags=caller)
    methods = {"M20": "refresh_sd_files", "M30": "delete_sd_file", "M22": "release_sd_card", "M21": "init_sd_card"}
    wait_until(lambda: set(methods) <= {cmd.split()[0] for cmd, _ in seen},
               message=lambda: f"the SD commands; got {seen}")
    for gcode, method in methods.items():
        tags = next(tags for sent, tags in seen if sent.split()[0] == gcode)  # the first: a refresh follows M21
        assert tags == {"source:test", f"trigger:printer.{method}", f"trigger:comm.{method}"}, gcode
    assert ("M30 " + name) in {cmd for cmd, _ in seen}
    # the refresh the comm layer sends by itself after M21 carries its own trigger only
    wait_until(lambda: {"trigger:comm.refresh_sd_files"} in [tags for sent, tags in seen if sent.startswith("M20")],
               message=lambda: f"the refresh after M21; got {seen}")
