"""A print driven entirely through the API, by the OctoRest client library, over the virtual
printer on a pseudo-terminal (the way a real USB printer is reached)."""


from octorest import OctoRest

from support import wait_until

GCODE = b"G28\nM104 S0\n" + b"G1 X10 Y10 Z0.2 F6000\nG1 X20 Y20 E1\n" * 150 + b"M84\n"


def wait_for_state(client, predicate, timeout=60):
    """The job info once ``predicate(state)`` holds (the last state read is in the failure)."""
    last = {}

    def matching():
        last.update(client.job_info())
        return dict(last) if predicate(last["state"]) else None

    return wait_until(matching, timeout=timeout, interval=0.1, message=lambda: f"a job state; it stayed {last}")


def test_octorest_drives_a_print_over_a_pty(start_server, pty_printer):
    running = start_server(settings_values={"serial.additionalPorts": [pty_printer.path]})
    client = OctoRest(url=running.url, apikey=running.keys["user"])

    assert client.get_version()["text"].startswith("OctoPrint")
    options = client.connection_info()["options"]
    assert pty_printer.path in options["ports"]
    assert 115200 in options["baudrates"]

    client.connect(port=pty_printer.path, baudrate=115200)
    wait_for_state(client, lambda state: state == "Operational", timeout=30)
    assert client.connection_info()["current"]["port"] == pty_printer.path

    client.upload(("flow.gcode", GCODE))
    assert [f["name"] for f in client.files("local")["files"]] == ["flow.gcode"]
    client.select("flow.gcode")
    assert client.job_info()["job"]["file"]["name"] == "flow.gcode"

    client.start()
    wait_for_state(client, lambda state: state.startswith("Printing"))
    client.pause()
    paused = wait_for_state(client, lambda state: state == "Paused")
    assert 0 <= paused["progress"]["completion"] < 100
    client.resume()
    wait_for_state(client, lambda state: state.startswith("Printing"))
    done = wait_for_state(client, lambda state: state == "Operational")
    assert done["progress"]["completion"] == 100
    assert done["job"]["file"]["name"] == "flow.gcode"

    running.context.printer.flush()
    file_entry = client.files("local")["files"][0]
    assert file_entry["prints"]["success"] == 1


def test_job_commands_answer_409_in_the_wrong_state(start_server, pty_printer):
    running = start_server(settings_values={"serial.additionalPorts": [pty_printer.path]})
    for command in ({"command": "start"}, {"command": "cancel"}, {"command": "restart"},
                    {"command": "pause", "action": "pause"}, {"command": "pause", "action": "resume"}):
        assert running.post("/api/job", role="user", json=command).status_code == 409, command
    running.post("/api/connection", json={"command": "connect", "port": pty_printer.path, "baudrate": 115200})
    wait_until(running.context.printer.is_operational)
    start = running.post("/api/job", role="user", json={"command": "start"})
    assert start.status_code == 409 and "No file" in start.json()["error"]
    assert running.get("/api/printer", role="viewer").json()["state"]["flags"]["operational"] is True


def test_commands_with_placeholders_and_tool_targets(start_server, pty_printer):
    running = start_server(settings_values={"serial.additionalPorts": [pty_printer.path]})
    running.post("/api/connection", json={"command": "connect", "port": pty_printer.path, "baudrate": 115200})
    wait_until(running.context.printer.is_operational)
    sent = running.post("/api/printer/command", role="user", json={"command": "M117 {greeting}",
                                                                   "parameters": {"greeting": "hello"}})
    assert sent.status_code == 204
    missing = running.post("/api/printer/command", role="user", json={"command": "M117 {nope}", "parameters": {"a": 1}})
    assert missing.status_code == 400
    partial = running.post("/api/printer/tool", role="user",
                           json={"command": "target", "targets": {"tool0": 200, "tool7": 200}})
    assert partial.status_code == 400
    assert running.post("/api/printer/tool", role="user",
                        json={"command": "target", "targets": {"tool0": 200}}).status_code == 204
    wait_until(lambda: running.get("/api/printer/tool", role="viewer").json().get("tool0", {}).get("target") == 200,
               message=lambda: f"target 200: {running.get('/api/printer/tool', role='viewer').text}")


def test_autoconnect_connects_to_the_configured_port_at_start(start_server):
    running = start_server(settings_values={"serial.autoconnect": True, "serial.port": "VIRTUAL"})
    wait_until(running.context.printer.is_operational)
    assert running.get("/api/connection").json()["current"]["port"] == "VIRTUAL"


def test_connect_with_save_stores_the_preferences(start_server):
    running = start_server()
    response = running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL", "baudrate": 250000,
                                                     "save": True, "autoconnect": True})
    assert response.status_code == 204
    settings = running.context.settings
    assert (settings.get("serial.port"), settings.get("serial.baudrate"), settings.get("serial.autoconnect")) == \
        ("VIRTUAL", 250000, True)
    bad = running.post("/api/connection", json={"command": "connect", "printerProfile": "nope"})
    assert bad.status_code == 400
    assert running.post("/api/connection", json={"command": "disconnect"}).status_code == 204


def test_printer_state_with_history_limit_and_exclude(start_server):
    running = start_server(connect_virtual=True)
    printer = running.context.printer
    wait_until(lambda: printer.is_operational() and len(printer.get_temperature_history()) >= 3,
               message="an operational printer with three temperature samples")
    body = running.get("/api/printer?history=true&limit=2&exclude=sd", role="viewer").json()
    assert set(body) == {"temperature", "state"}
    assert len(body["temperature"]["history"]) == 2
    assert "tool0" in body["temperature"] and "actual" in body["temperature"]["tool0"]
    assert body["state"]["flags"]["operational"] is True
    tool = running.get("/api/printer/tool?history=true&limit=1", role="viewer").json()
    assert "bed" not in tool and len(tool["history"]) == 1 and "bed" not in tool["history"][0]
    assert running.get("/api/printer?history=true&limit=x", role="viewer").status_code == 400
