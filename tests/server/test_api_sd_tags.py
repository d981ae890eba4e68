"""The SD card's API commands carry OctoPrint's tags through the command phases: ``source:api``,
``api:printer.sd`` (``api:files.sd`` for a delete) and the printer's and comm layer's triggers."""

import types

from support import wait_until


def test_sd_api_commands_are_tagged_as_octoprint_tags_them(start_server):
    seen = []

    def record(comm, phase, cmd, cmd_type, gcode, subcode=None, tags=None, **kwargs):
        seen.append((cmd, set(tags or ())))

    recorder = types.SimpleNamespace(__plugin_hooks__={"octoprint.comm.protocol.gcode.queuing": record})
    running = start_server(connect_virtual=True, plugins={"recorder": recorder})
    printer = running.context.printer
    wait_until(lambda: printer.is_operational() and printer.is_sd_ready(), message="the printer and its card ready")
    assert running.post("/api/files/sdcard", files={"file": ("card.gcode", b"G1 X1\n" * 5)}).status_code == 201
    wait_until(lambda: printer.get_sd_files(), interval=0.1, message="the uploaded file on the card")
    name = printer.get_sd_files()[0]["name"]

    def sent(gcode):
        return [tags for cmd, tags in seen if cmd.split()[0] == gcode]

    seen.clear()
    for command in ("refresh", "release", "init"):
        assert running.post("/api/printer/sd", json={"command": command}).status_code == 204
        ready = command != "release"
        wait_until(lambda ready=ready: printer.is_sd_ready() == ready, message=f"the card after {command}")
    for gcode, method in (("M20", "refresh_sd_files"), ("M22", "release_sd_card"), ("M21", "init_sd_card")):
        assert sent(gcode)[0] == {"source:api", "api:printer.sd", f"trigger:printer.{method}",
                                  f"trigger:comm.{method}"}, gcode
    wait_until(lambda: printer.get_sd_files(), interval=0.1, message="the card listed again")
    assert running.client("user").delete(f"{running.url}/api/files/sdcard/{name}", timeout=10).status_code == 204
    wait_until(lambda: sent("M30"), message="the delete sent")
    assert sent("M30")[0] == {"source:api", "api:files.sd", "trigger:printer.delete_sd_file",
                              "trigger:comm.delete_sd_file"}
