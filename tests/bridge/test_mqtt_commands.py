"""Every MQTT command against a real mosquitto and a daemon on the virtual printer: ACCEPTED or
REJECTED (with the reason) and then FINISHED or FAILED; repeated ids; malformed payloads."""

import pytest
from mqtt_helpers import answers, events_named, gcode_file, kinds, launch, mqtt_settings, send

from support import wait_until
from support.mosquitto import Mosquitto, Subscriber

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def farm(tmp_path_factory, admin_users):
    """One broker, one daemon (commands on), one subscriber for the whole module."""
    folder = tmp_path_factory.mktemp("mqtt-commands")
    broker = Mosquitto(folder / "broker").start()
    daemon = launch(folder / "daemon", admin_users,
                    mqtt_settings(broker.port, "cmd", **{"serial.virtual.okDelay": 0.004}))
    subscriber = Subscriber(broker.port, "octohost/cmd/#")
    wait_until(lambda: daemon.context.printer.is_ready(), message="printer ready")
    daemon.upload("small.gcode", gcode_file(20))
    daemon.upload("long.gcode", gcode_file(3000))
    yield daemon, subscriber
    subscriber.close()
    daemon.server.stop()
    broker.stop()


def idle(daemon):
    printer = daemon.context.printer
    if printer.is_printing() or printer.is_paused():
        printer.cancel_print()
    wait_until(printer.is_ready, message="printer ready")


def test_send_info(farm):
    daemon, sub = farm
    got = send(sub, daemon.root, "SEND_INFO")
    assert kinds(got) == ["ACCEPTED", "FINISHED"]
    result = got[-1]["data"]["result"]
    assert result["state"] == "OPERATIONAL" and result["status"]["code"] == 100 and result["status"]["label"] == "Ready"
    assert result["connection"]["port"] == "VIRTUAL" and result["profile"]["id"] == "_default"
    assert result["firmware"]["name"].startswith("Marlin")
    assert result["storage"]["free_space"] > 0 and result["storage"]["total_space"] >= result["storage"]["free_space"]
    assert got[0]["source"] == "mqtt" and got[0]["command_id"] == got[-1]["command_id"]


def test_list_files_and_file_info(farm):
    daemon, sub = farm
    daemon.context.file_manager.add_folder("box")
    daemon.upload("inner.gcode", gcode_file(5), folder="box")
    got = send(sub, daemon.root, "LIST_FILES")
    assert kinds(got) == ["ACCEPTED", "FINISHED"]
    tree = got[-1]["data"]["result"]["files"]
    by_name = {entry["name"]: entry for entry in tree["children"]}
    assert by_name["small.gcode"]["type"] == "FILE" and by_name["small.gcode"]["ro"] is False
    assert by_name["small.gcode"]["size"] == len(gcode_file(20)) and by_name["small.gcode"]["m_timestamp"] > 0
    assert by_name["box"]["type"] == "FOLDER"
    assert [c["name"] for c in by_name["box"]["children"]] == ["inner.gcode"]
    info = send(sub, daemon.root, "SEND_FILE_INFO", {"path": "box/inner.gcode"})[-1]
    assert info["event"] == "FINISHED" and info["data"]["result"]["path"] == "box/inner.gcode"
    missing = send(sub, daemon.root, "SEND_FILE_INFO", {"path": "nope.gcode"})
    assert kinds(missing) == ["REJECTED"] and "no such file" in missing[0]["data"]["reason"]


def test_print_pause_resume_stop(farm):
    daemon, sub = farm
    printer = daemon.context.printer
    got = send(sub, daemon.root, "START_PRINT", {"path": "long.gcode"})
    assert kinds(got) == ["ACCEPTED", "FINISHED"]
    assert printer.is_printing()
    busy = send(sub, daemon.root, "START_PRINT", {"path": "small.gcode"})
    assert kinds(busy) == ["REJECTED"] and busy[0]["data"]["reason"].startswith("wrong printer state")
    assert kinds(send(sub, daemon.root, "RESUME_PRINT")) == ["REJECTED"]
    assert kinds(send(sub, daemon.root, "PAUSE_PRINT")) == ["ACCEPTED", "FINISHED"]
    assert printer.is_paused()
    assert kinds(send(sub, daemon.root, "RESUME_PRINT")) == ["ACCEPTED", "FINISHED"]
    assert printer.is_printing() and not printer.is_paused()
    assert kinds(send(sub, daemon.root, "STOP_PRINT")) == ["ACCEPTED", "FINISHED"]
    assert not printer.is_printing()
    assert events_named(sub, daemon.root, "PRINT_CANCELLED")
    assert kinds(send(sub, daemon.root, "STOP_PRINT")) == ["REJECTED"]
    assert kinds(send(sub, daemon.root, "PAUSE_PRINT")) == ["REJECTED"]
    idle(daemon)


def test_start_print_refuses_bad_paths(farm):
    daemon, sub = farm
    for args, reason in (({"path": "missing.gcode"}, "no such file"), ({}, "must be a file path"),
                         ({"path": 5}, "must be a file path"), ({"path": "../../etc/passwd"}, "no such file")):
        got = send(sub, daemon.root, "START_PRINT", args)
        assert kinds(got) == ["REJECTED"] and reason in got[0]["data"]["reason"], (args, got)


def test_gcode_temperature_home(farm):
    daemon, sub = farm
    idle(daemon)
    got = send(sub, daemon.root, "GCODE", {"gcode": "M117 hello\nM105"})
    assert kinds(got) == ["ACCEPTED", "FINISHED"] and got[-1]["data"]["result"] == {"lines": 2}
    assert kinds(send(sub, daemon.root, "GCODE", {"gcode": ""})) == ["REJECTED"]
    assert kinds(send(sub, daemon.root, "GCODE", {"gcode": [1, 2]})) == ["REJECTED"]
    too_long = send(sub, daemon.root, "GCODE", {"gcode": "M117 " + "x" * 300})
    assert kinds(too_long) == ["ACCEPTED", "FAILED"] and too_long[-1]["data"]["reason"]
    got = send(sub, daemon.root, "SET_TEMPERATURE", {"heater": "bed", "target": 55})
    assert kinds(got) == ["ACCEPTED", "FINISHED"]
    wait_until(lambda: daemon.context.printer.get_current_temperatures().get("bed", {}).get("target") == 55,
               message="bed target 55")
    for args in ({"heater": "oven", "target": 50}, {"heater": "bed", "target": 9000}, {"heater": "bed"},
                 {"heater": "bed", "target": True}):
        assert kinds(send(sub, daemon.root, "SET_TEMPERATURE", args)) == ["REJECTED"], args
    send(sub, daemon.root, "SET_TEMPERATURE", {"heater": "bed", "target": 0})
    assert kinds(send(sub, daemon.root, "HOME", {"axes": ["x", "y"]})) == ["ACCEPTED", "FINISHED"]
    assert kinds(send(sub, daemon.root, "HOME")) == ["ACCEPTED", "FINISHED"]
    assert kinds(send(sub, daemon.root, "HOME", {"axes": ["q"]})) == ["REJECTED"]


def test_delete_file(farm):
    daemon, sub = farm
    daemon.upload("doomed.gcode", gcode_file(3))
    got = send(sub, daemon.root, "DELETE_FILE", {"path": "doomed.gcode"})
    assert kinds(got) == ["ACCEPTED", "FINISHED"]
    assert daemon.get("/api/files/local/doomed.gcode").status_code == 404
    wait_until(lambda: [e for e in events_named(sub, daemon.root, "FILE_REMOVED")
                        if e["data"].get("path") == "doomed.gcode"], message="FILE_REMOVED event")
    assert kinds(send(sub, daemon.root, "DELETE_FILE", {"path": "doomed.gcode"})) == ["REJECTED"]
    # the file being printed cannot be deleted
    assert kinds(send(sub, daemon.root, "START_PRINT", {"path": "long.gcode"})) == ["ACCEPTED", "FINISHED"]
    busy = send(sub, daemon.root, "DELETE_FILE", {"path": "long.gcode"})
    assert kinds(busy) == ["REJECTED"] and "being printed" in busy[0]["data"]["reason"]
    idle(daemon)


def test_disconnect_connect_reset(farm):
    daemon, sub = farm
    printer = daemon.context.printer
    idle(daemon)
    assert kinds(send(sub, daemon.root, "CONNECT")) == ["REJECTED"]
    assert kinds(send(sub, daemon.root, "DISCONNECT")) == ["ACCEPTED", "FINISHED"]
    assert printer.is_closed_or_error()
    assert kinds(send(sub, daemon.root, "DISCONNECT")) == ["REJECTED"]
    assert kinds(send(sub, daemon.root, "RESET")) == ["REJECTED"]
    bad = send(sub, daemon.root, "CONNECT", {"baudrate": "fast"})
    assert kinds(bad) == ["REJECTED"] and "baudrate" in bad[0]["data"]["reason"]
    got = send(sub, daemon.root, "CONNECT", {"port": "VIRTUAL"})
    assert kinds(got) == ["ACCEPTED", "FINISHED"] and printer.is_operational()
    before = len(events_named(sub, daemon.root, "CONNECTED"))
    got = send(sub, daemon.root, "RESET")
    assert kinds(got) == ["ACCEPTED", "FINISHED"] and printer.is_operational()
    wait_until(lambda: len(events_named(sub, daemon.root, "CONNECTED")) > before, message="CONNECTED after RESET")


def test_repeated_id_is_answered_again_not_run_again(farm):
    daemon, sub = farm
    idle(daemon)
    first = send(sub, daemon.root, "GCODE", {"gcode": "M117 once"}, command_id="dup-1")
    assert kinds(first) == ["ACCEPTED", "FINISHED"]
    sub.publish(f"{daemon.root}/command", {"id": "dup-1", "command": "GCODE", "args": {"gcode": "M117 twice"}})
    both = wait_until(lambda: (lambda got: got if len(got) == 4 else None)(answers(sub, daemon.root, "dup-1")),
                      message="the repeated answers")
    assert kinds(both) == ["ACCEPTED", "FINISHED", "ACCEPTED", "FINISHED"]
    assert both[2]["data"]["repeated"] is True and both[3]["data"]["result"] == {"lines": 1}
    assert both[2]["seq"] > both[1]["seq"]
    # a rejected id is answered REJECTED again, even with a command that would now be valid
    assert kinds(send(sub, daemon.root, "RESUME_PRINT", command_id=77)) == ["REJECTED"]
    sub.publish(f"{daemon.root}/command", {"id": 77, "command": "SEND_INFO"})
    again = wait_until(lambda: (lambda got: got if len(got) == 2 else None)(answers(sub, daemon.root, 77)),
                       message="the repeated rejection")
    assert kinds(again) == ["REJECTED", "REJECTED"] and again[1]["data"]["command"] == "RESUME_PRINT"


def test_malformed_payloads_never_crash(farm):
    daemon, sub = farm
    root = daemon.root
    for payload in (b"not json", b"[1, 2]", b"{\"command\": \"SEND_INFO\"}", b"{\"id\": {}, \"command\": \"HOME\"}",
                    b"\xff\xfe\x00", b"[" * 5000 + b"]" * 5000, b"{\"id\": \"" + b"x" * 200 + b"\"}",
                    b"x" * (70 * 1024), b""):
        sub.publish(f"{root}/command", payload)
    assert kinds(send(sub, root, "FLY")) == ["REJECTED"]
    assert "unknown command" in answers(sub, root, send(sub, root, "FLY")[0]["command_id"])[0]["data"]["reason"]
    sub.publish(f"{root}/command", {"id": "bad-args", "command": "HOME", "args": [1]})
    got = wait_until(lambda: answers(sub, root, "bad-args"), message="answer to bad args")
    assert kinds(got) == ["REJECTED"] and "args must be an object" in got[0]["data"]["reason"]
    sub.publish(f"{root}/command", {"id": "no-command"})
    got = wait_until(lambda: answers(sub, root, "no-command"), message="answer without a command")
    assert kinds(got) == ["REJECTED"]
    assert kinds(send(sub, root, "SEND_INFO")) == ["ACCEPTED", "FINISHED"]  # still alive
    assert daemon.bridge.status()["state"] == "connected"


def test_events_are_numbered_without_gaps(farm):
    daemon, sub = farm
    seqs = [e["seq"] for e in sub.on(f"{daemon.root}/event") if isinstance(e, dict)]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
