"""The MQTT bridge of a running daemon against a real mosquitto: status and telemetry, Home
Assistant discovery, commands switched off, the API and settings changes while running."""

import subprocess
import sys
import time

import pytest
from mqtt_helpers import gcode_file, kinds, mqtt_settings, send

from octohost.bridge.mqtt.config import ConfigError, MqttConfig, default_printer_id
from octohost.settings import Settings

from support import wait_until


def test_printer_id_defaults_to_the_host_name(tmp_path):
    assert default_printer_id("Print-Farm-07.lab.example") == "print-farm-07"
    assert default_printer_id("raspberry pi!") == "raspberry-pi"
    assert default_printer_id("...") == "octohost"
    settings = Settings(str(tmp_path / "a"))
    first = MqttConfig.from_settings(settings)
    assert first.printer_id == default_printer_id() and first.base_topic == "octohost"
    assert MqttConfig.from_settings(Settings(str(tmp_path / "a"))).client_id == first.client_id  # stable
    assert MqttConfig.from_settings(Settings(str(tmp_path / "b"))).client_id != first.client_id  # per base folder


@pytest.mark.parametrize("key,value,message", [
    ("mqtt.printerId", "a/b", "mqtt.printerId"), ("mqtt.printerId", "p+", "mqtt.printerId"),
    ("mqtt.baseTopic", "farm/#", "mqtt.baseTopic"), ("mqtt.baseTopic", "a//b", "mqtt.baseTopic"),
    ("mqtt.baseTopic", "$SYS", "mqtt.baseTopic"), ("mqtt.broker.tls.ca", "/nonexistent/ca.pem", "tls.ca"),
])
def test_bad_settings_are_named(tmp_path, key, value, message):
    settings = Settings(str(tmp_path))
    settings.set("mqtt.broker.tls.enabled", True)
    settings.set(key, value)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        MqttConfig.from_settings(settings)


@pytest.mark.e2e
def test_paho_is_not_imported_when_the_bridge_is_off(tmp_path):
    code = ("import sys; from octohost.settings import Settings; from octohost.server.app import Server; "
            f"s = Server(Settings({str(tmp_path)!r}), host='127.0.0.1', port=0).start_in_thread(); "
            "print(s.context.mqtt.status()['state'], 'paho.mqtt.client' in sys.modules); s.stop()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["disabled", "False"], out.stderr


@pytest.mark.e2e
def test_status_and_telemetry(broker, subscribers, start_daemon):
    sub = subscribers(broker.port, "octohost/p1/#")
    interval = 0.1
    daemon = start_daemon(mqtt_settings(broker.port, **{"mqtt.telemetryInterval": interval}))
    wait_until(lambda: [s for s in sub.on(daemon.topic("status")) if s["online"]], message="online status")
    wait_until(lambda: daemon.context.printer.is_ready(), message="printer ready")
    first = len(sub.on(daemon.topic("telemetry")))
    start = time.monotonic()
    wait_until(lambda: len(sub.on(daemon.topic("telemetry"))) >= first + 20, timeout=20, message="20 telemetry")
    elapsed = time.monotonic() - start
    telemetry = sub.on(daemon.topic("telemetry"))
    # at least once per interval (20 in at most 2 s plus scheduling noise), and not flooding either
    assert elapsed < 20 * interval * 3, elapsed
    last = telemetry[-1]
    assert set(last) == {"ts", "seq", "state", "status", "temperatures", "job"}
    # the machine layer's status, as GET /api/machine reports it
    machine = daemon.get("/api/machine").json()["status"]
    assert last["state"] == "OPERATIONAL" and machine["code"] == 100
    assert last["status"] == {"code": 100, "text": machine["text"], "label": "Ready"}
    assert set(last["temperatures"]) >= {"tool0", "bed"} and set(last["temperatures"]["bed"]) == {"actual", "target"}
    assert set(last["job"]) == {"file", "completion", "printTime", "printTimeLeft"}
    seqs = [t["seq"] for t in telemetry]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # retained: a late subscriber learns the status at once
    late = subscribers(broker.port, daemon.topic("status"))
    wait_until(lambda: late.on(daemon.topic("status")), message="retained status")
    assert late.on(daemon.topic("status"))[0]["online"] is True
    # a clean stop says offline
    daemon.server.stop()
    wait_until(lambda: sub.on(daemon.topic("status"))[-1]["online"] is False, message="offline status")


@pytest.mark.e2e
def test_print_progress_in_telemetry_and_events(broker, subscribers, start_daemon):
    sub = subscribers(broker.port, "octohost/p1/#")
    daemon = start_daemon(mqtt_settings(broker.port, **{"serial.virtual.okDelay": 0.002}))
    wait_until(lambda: daemon.context.printer.is_ready(), message="printer ready")
    daemon.upload("job.gcode", gcode_file(600))
    assert daemon.post("/api/files/local/job.gcode", json={"command": "select", "print": True}).status_code == 204
    wait_until(lambda: [e for e in sub.on(daemon.topic("event")) if e["event"] == "PRINT_DONE"], timeout=60,
               message="PRINT_DONE")
    names = [e["event"] for e in sub.on(daemon.topic("event"))]
    assert names.index("FILE_ADDED") < names.index("PRINT_STARTED") < names.index("PRINT_DONE")
    printing = [t for t in sub.on(daemon.topic("telemetry")) if t["state"] == "PRINTING"]
    assert printing and printing[-1]["job"]["file"] == "job.gcode" and any(t["status"]["code"] == 110 for t in printing)
    assert any(0 < (t["job"]["completion"] or 0) < 100 for t in printing)


@pytest.mark.e2e
def test_commands_off_are_rejected(broker, subscribers, start_daemon):
    sub = subscribers(broker.port, "octohost/p1/#")
    daemon = start_daemon(mqtt_settings(broker.port, **{"mqtt.commands": False}))
    wait_until(lambda: daemon.context.printer.is_ready(), message="printer ready")
    got = send(sub, daemon.root, "HOME")
    assert kinds(got) == ["REJECTED"] and "commands are off" in got[0]["data"]["reason"]


@pytest.mark.e2e
def test_home_assistant_discovery(broker, subscribers, start_daemon):
    live = subscribers(broker.port, "homeassistant/#")
    start_daemon(mqtt_settings(broker.port, **{"mqtt.homeassistant.discovery": True,
                                               "appearance.name": "Workshop MK3"}))
    wait_until(lambda: len(live.messages) >= 9, message=lambda: f"9 discovery configs, got {live.messages}")
    ha = subscribers(broker.port, "homeassistant/#")  # subscribed afterwards: the configs are retained
    wait_until(lambda: len(ha.messages) >= 9, message=lambda: f"9 retained configs, got {ha.messages}")
    configs = {topic: payload for topic, payload, retained in ha.messages}
    assert all(retained for _, _, retained in ha.messages) and len(configs) == 9
    state = configs["homeassistant/sensor/octohost_p1/state/config"]
    assert state["state_topic"] == "octohost/p1/telemetry" and state["availability_topic"] == "octohost/p1/status"
    assert state["device"]["name"] == "Workshop MK3" and state["unique_id"] == "octohost_p1_state"
    assert configs["homeassistant/sensor/octohost_p1/tool0/config"]["device_class"] == "temperature"
    assert configs["homeassistant/sensor/octohost_p1/progress/config"]["unit_of_measurement"] == "%"
    cancel = configs["homeassistant/button/octohost_p1/cancel/config"]
    assert cancel["command_topic"] == "octohost/p1/command" and '"STOP_PRINT"' in cancel["command_template"]
    assert "now()" in cancel["command_template"]  # a fresh id per press


@pytest.mark.e2e
def test_switching_discovery_off_clears_the_configs(broker, subscribers, start_daemon):
    daemon = start_daemon(mqtt_settings(broker.port, **{"mqtt.homeassistant.discovery": True}))
    first = subscribers(broker.port, "homeassistant/#")
    wait_until(lambda: len(first.messages) >= 9, message="9 retained configs")
    daemon.context.settings.set("mqtt.homeassistant.discovery", False)  # the bridge restarts without it
    wait_until(lambda: len([m for m in first.messages if m[1] is None]) >= 9, message="9 configs cleared")
    late = subscribers(broker.port, ["homeassistant/#", "octohost/p1/status"])
    wait_until(lambda: late.on("octohost/p1/status"), message="the retained status")  # retained ones have arrived
    assert [m for m in late.messages if m[0].startswith("homeassistant/")] == []


@pytest.mark.e2e
def test_api_state_and_settings_change_restarts_the_bridge(broker, subscribers, start_daemon):
    daemon = start_daemon(mqtt_settings(broker.port, **{"mqtt.broker.username": "u", "mqtt.broker.password": "pw"}))
    wait_until(lambda: daemon.get("/api/mqtt").json()["state"]["state"] == "connected", message="connected")
    body = daemon.get("/api/mqtt").json()
    assert body["state"]["printerId"] == "p1" and body["state"]["broker"] == f"127.0.0.1:{broker.port}"
    assert body["settings"]["broker"]["passwordSet"] is True and "password" not in body["settings"]["broker"]
    assert "password" not in daemon.get("/api/settings").json()["mqtt"]["broker"]
    viewer = daemon.get("/api/mqtt", role="viewer")
    assert viewer.status_code == 200 and "settings" not in viewer.json()
    assert daemon.post("/api/mqtt", role="viewer", json={"settings": {"printerId": "x"}}).status_code == 403
    for bad in ({"settings": {"printerId": 5}}, {"settings": {"nope": 1}}, {"printerId": "p2"},
                {"settings": {"broker": {"port": 70000}}}):
        response = daemon.post("/api/mqtt", json=bad)
        assert response.status_code == 400 and response.json()["error"], bad
    assert daemon.get("/api/mqtt").json()["settings"]["printerId"] == "p1"
    sub = subscribers(broker.port, "octohost/p2/#")
    response = daemon.post("/api/mqtt", json={"settings": {"printerId": "p2"}})
    assert response.status_code == 200 and response.json()["settings"]["printerId"] == "p2"
    wait_until(lambda: [s for s in sub.on("octohost/p2/status") if s["online"]], message="online as p2")
    assert daemon.get("/api/mqtt").json()["settings"]["broker"]["passwordSet"] is True
    response = daemon.post("/api/mqtt", json={"settings": {"enabled": False}})
    assert response.status_code == 200
    wait_until(lambda: daemon.get("/api/mqtt").json()["state"]["state"] == "disabled", message="disabled")
    wait_until(lambda: sub.on("octohost/p2/status")[-1]["online"] is False, message="offline as p2")


@pytest.mark.e2e
def test_unreachable_broker_is_reported_and_retried(broker, start_daemon):
    from support.mosquitto import free_port

    daemon = start_daemon(mqtt_settings(free_port()))
    wait_until(lambda: daemon.get("/api/mqtt").json()["state"]["lastError"], message="an error")
    state = daemon.get("/api/mqtt").json()["state"]
    assert state["state"] in ("connecting", "disconnected") and "cannot reach" in state["lastError"]


@pytest.mark.e2e
def test_firmware_attention_reaches_the_event_topic(broker, subscribers, start_daemon):
    """``// action:`` lines and firmware errors come out as ATTENTION events."""
    from octohost.comm.virtual.pty import serve_pty

    with serve_pty() as virtual:
        sub = subscribers(broker.port, "octohost/p1/#")
        daemon = start_daemon(mqtt_settings(broker.port, **{"serial.firmwareErrors": "disconnect"}),
                              connect_virtual=False)
        daemon.context.printer.connect(port=virtual.path, baudrate=115200)
        wait_until(lambda: daemon.context.printer.is_ready(), message="printer ready")
        virtual.printer.inject("// action:notification Filament is running low")

        def attention():
            return [e for e in sub.on(daemon.topic("event")) if e["event"] == "ATTENTION"]
        wait_until(lambda: len(attention()) >= 1, message="ATTENTION from the action line")
        action = attention()[0]
        assert action["source"] == "firmware" and action["data"]["action"] == "notification"
        assert action["data"]["params"] == "Filament is running low"
        virtual.printer.inject("Error:Heating failed, system stopped! Heater_ID: 0")
        wait_until(lambda: len(attention()) >= 2, message="ATTENTION from the firmware error")
        error = attention()[1]
        assert error["source"] == "printer" and "Heating failed" in error["data"]["error"]
        assert daemon.context.printer.is_error()


@pytest.mark.e2e
def test_enabling_from_the_shell_starts_the_bridge(broker, subscribers, start_daemon):
    """``octohost config set mqtt.enabled true`` while the daemon runs: it adopts the changed
    config.yaml and the bridge comes up without a restart."""
    sub = subscribers(broker.port, "octohost/p1/status")
    daemon = start_daemon(mqtt_settings(broker.port, **{"mqtt.enabled": False}))
    assert daemon.context.mqtt.status()["state"] == "disabled"
    shell = Settings(daemon.context.settings.basedir)  # another process's view of the same file
    shell.set("mqtt.enabled", True)
    wait_until(lambda: [s for s in sub.on("octohost/p1/status") if s["online"]], message="online")
    assert daemon.get("/api/mqtt").json()["state"]["state"] == "connected"


def test_telemetry_carries_the_machine_layers_status(broker, subscribers, start_daemon):
    """A status only the machine layer knows (heating, from the temperatures) reaches the telemetry."""
    sub = subscribers(broker.port, "octohost/p1/#")
    daemon = start_daemon(mqtt_settings(broker.port, **{"mqtt.telemetryInterval": 0.1}))
    wait_until(lambda: daemon.context.printer.is_ready(), message="printer ready")
    assert daemon.post("/api/printer/bed", json={"command": "target", "target": 110}).status_code == 204
    heating = wait_until(lambda: [t for t in sub.on(daemon.topic("telemetry")) if t["status"]["code"] == 112],
                         timeout=20, message="telemetry with the heating status")
    assert heating[-1]["state"] == "OPERATIONAL" and heating[-1]["status"]["label"] == "Heating"
    daemon.post("/api/printer/bed", json={"command": "target", "target": 0})
