"""``/api/machine`` and ``/metrics`` over real HTTP: shapes, bad input, permissions, the local-network
setting, and prometheus_client staying out of memory until the first scrape."""

import subprocess
import sys
import textwrap

import pytest
import requests

from support import wait_until


@pytest.fixture
def connected(start_server, pty_printer):
    running = start_server(settings_values={"serial.additionalPorts": [pty_printer.path]})
    response = running.post("/api/connection", json={"command": "connect", "port": pty_printer.path})
    assert response.status_code == 204
    wait_until(lambda: running.get("/api/machine").json()["status"]["code"] == 100, timeout=20)
    return running


def test_get_machine_describes_driver_status_errors_and_connection(connected):
    body = connected.get("/api/machine").json()
    assert set(body) >= {"driver", "status", "statusText", "errors", "connection"}
    assert set(body["driver"]) >= {"slug", "name", "description", "settings"}
    assert body["driver"]["slug"] == "serial"
    assert body["status"] == {"code": 100, "text": "Connected and ready.", "label": "Ready", "color": "success"}
    assert body["statusText"] == "Operational"
    assert body["errors"] == []
    assert set(body["connection"]) == {"state", "attempt", "nextRetryIn", "circuit", "lastCommunication"}
    assert body["connection"]["circuit"] == "closed"
    capabilities = connected.get("/api/version").json()["capabilities"]
    assert capabilities["machine"] == "/api/machine" and capabilities["metrics"] == "/metrics"


@pytest.mark.parametrize("body", [{}, {"command": "reboot"}, {"command": 5}, []])
def test_bad_machine_commands_answer_400_json(running, body):
    response = running.post("/api/machine", json=body)
    assert response.status_code == 400
    assert response.json()["error"]


def test_machine_needs_the_connection_permission(running):
    assert running.get("/api/machine", role="viewer").status_code == 403
    assert running.post("/api/machine", role="viewer", json={"command": "restart"}).status_code == 403
    assert running.get("/api/machine", role=None).status_code == 403  # as OctoPrint: never 401


def test_restart_is_refused_while_printing(connected):
    gcode = b"".join(b"G4 P50\n" for _ in range(400))
    upload = connected.post("/api/files/local", files={"file": ("slow.gcode", gcode)},
                            data={"select": "true", "print": "true"})
    assert upload.status_code == 201
    wait_until(lambda: connected.context.printer.is_printing(), timeout=10)
    response = connected.post("/api/machine", json={"command": "restart"})
    assert response.status_code == 409 and "cancel" in response.json()["error"]
    assert connected.context.printer.is_printing()


def test_metrics_need_a_key_and_show_the_figures(connected):
    assert requests.get(connected.url + "/metrics", timeout=10).status_code == 403
    wrong = requests.get(connected.url + "/metrics", headers={"X-Api-Key": "wrong"}, timeout=10)
    assert wrong.status_code == 403 and wrong.json()["error"]
    response = connected.get("/metrics", role="viewer")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = response.text
    for line in ("octohost_machine_status_code 100.0", "octohost_circuit_state 0.0", "octohost_push_clients 0.0",
                 "octohost_printer_operational 1.0"):
        assert line in text
    assert 'octohost_temperature_celsius{heater="tool0",kind="actual"}' in text
    sent = [line for line in text.splitlines() if line.startswith("octohost_serial_lines_sent_total ")]
    assert sent and float(sent[0].split()[1]) > 0
    assert "octohost_reconnect_attempts_total 0.0" in text


def test_metrics_open_to_the_local_network_when_asked(start_server):
    running = start_server(settings_values={"api.metricsLocalNetworks": True})
    response = requests.get(running.url + "/metrics", timeout=10)
    assert response.status_code == 200 and "octohost_machine_status_code 130.0" in response.text
    running.context.settings.set("accessControl.localNetworks", ["10.0.0.0/8"])
    assert requests.get(running.url + "/metrics", timeout=10).status_code == 403


def test_prometheus_client_is_imported_on_the_first_scrape_only(tmp_path):
    script = textwrap.dedent(f"""
        import sys, requests
        from octohost.server.app import Server
        from octohost.settings import Settings
        settings = Settings({str(tmp_path)!r})
        settings.set("api.metricsLocalNetworks", True)
        server = Server(settings, host="127.0.0.1", port=0).start_in_thread()
        before = "prometheus_client" in sys.modules
        status = requests.get(server.url + "metrics", timeout=10).status_code
        print(before, status, "prometheus_client" in sys.modules)
        server.stop()
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["False", "200", "True"], result.stderr[-2000:]


def _metric(text, name):
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return float(line.split()[1])


def test_metrics_count_line_errors_and_timeouts(start_server):
    running = start_server(settings_values={
        "serial.virtual.checksumErrorRate": 0.3, "serial.virtual.seed": 3, "serial.timeout.communication": 0.3,
        "serial.maxCommunicationTimeouts.idle": 2, "serial.reconnect.enabled": False})
    assert running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"}).status_code == 204
    wait_until(lambda: running.context.printer.is_operational(), timeout=20)
    for index in range(20):
        running.post("/api/printer/command", json={"command": f"M117 line {index}"})
    wait_until(lambda: _metric(running.get("/metrics").text, "octohost_serial_checksum_errors_total") > 0,
               timeout=20)
    text = running.get("/metrics").text
    assert _metric(text, "octohost_serial_resends_total") > 0

    assert _metric(text, "octohost_serial_timeouts_total") == 0
    running.post("/api/printer/command", json={"command": "!!DEBUG:hang"})
    wait_until(lambda: running.context.printer.is_error(), timeout=20)
    assert _metric(running.get("/metrics").text, "octohost_serial_timeouts_total") >= 2


def test_push_clients_get_status_changes_but_not_the_snapshots(running):
    import json

    import websocket

    ws = websocket.create_connection(running.url.replace("http", "ws") + "/sockjs/websocket", timeout=10)
    try:
        assert "connected" in json.loads(ws.recv())
        body = running.post("/api/login", json={"passive": True}).json()
        ws.send(json.dumps({"auth": f"{body['name']}:{body['session']}"}))
        assert running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"}).status_code == 204
        events = []

        def ready_event():
            message = json.loads(ws.recv())
            if "event" in message:
                events.append(message["event"])
                payload = message["event"]["payload"] or {}
                return message["event"]["type"] == "MachineStatusChanged" and payload["status"]["code"] == 100
            return False

        wait_until(ready_event, timeout=20, interval=0)
        snapshots = []
        running.context.machine.subscribe(snapshots.append)
        wait_until(lambda: len(snapshots) >= 2, timeout=10)  # published meanwhile, never pushed
        ws.settimeout(0.5)
        for _ in range(200):  # what has queued up, until a quiet half second (bounded)
            try:
                message = json.loads(ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if "event" in message:
                events.append(message["event"])
        assert "MachineSnapshot" not in {event["type"] for event in events}
    finally:
        ws.close()


def test_metrics_sample_the_turnaround_while_printing(connected):
    gcode = b"".join(b"G1 X%d Y5 F6000\n" % (i % 100) for i in range(320))
    upload = connected.post("/api/files/local", files={"file": ("moves.gcode", gcode)},
                            data={"select": "true", "print": "true"})
    assert upload.status_code == 201
    wait_until(lambda: connected.get("/api/job").json()["state"] == "Operational"
               and connected.context.printer.get_current_data()["progress"]["completion"] == 100, timeout=60)
    text = connected.get("/metrics").text
    sent = _metric(text, "octohost_serial_lines_sent_total")
    observed = _metric(text, "octohost_serial_turnaround_seconds_count")
    assert sent >= 320 and 320 / 16 - 2 <= observed <= sent / 16 + 1  # one ok in 16, when a line was waiting
    assert _metric(text, 'octohost_serial_turnaround_seconds_bucket{le="+Inf"}') == observed
    assert 0 < _metric(text, "octohost_serial_turnaround_seconds_sum") < observed  # well under a second each
