"""``POST /api/printer/command`` with what used to kill the serial connection: line breaks, lines too long
for the firmware's receive buffer, and M112 during a print."""



from support import wait_until

LONG_COMMAND = "M117 " + "x" * 200
LONG_PRINT = b"G28\n" + b"G1 X10 Y10 F6000\nG1 X20 Y20\n" * 2000 + b"M84\n"


def connect(running, port):
    assert running.post("/api/connection", json={"command": "connect", "port": port,
                                                 "baudrate": 115200}).status_code == 204
    wait_until(running.context.printer.is_ready)


def test_line_breaks_split_a_command_and_over_long_ones_are_refused_with_400(start_server, pty_printer):
    running = start_server(settings_values={"serial.additionalPorts": [pty_printer.path]})  # offered ports only
    connect(running, pty_printer.path)
    sent = running.post("/api/printer/command", role="user",
                        json={"commands": ["M117 a\nM117 b", "M117 c\rM117 d\r\n"]})
    assert sent.status_code == 204
    wait_until(lambda: "M117 d" in pty_printer.printer.accepted)
    accepted = pty_printer.printer.accepted
    start = accepted.index("M117 a")
    assert accepted[start:start + 4] == ["M117 a", "M117 b", "M117 c", "M117 d"]

    for body in ({"commands": ["M117 not sent either", LONG_COMMAND]}, {"command": LONG_COMMAND},
                 {"command": "M117 {text}", "parameters": {"text": "y" * 200}}):
        refused = running.post("/api/printer/command", role="user", json=body)
        assert refused.status_code == 400, body
        assert "rxBufferSize" in refused.json()["error"]
    assert running.post("/api/printer/command", role="user", json={"command": "M117 still here"}).status_code == 204
    wait_until(lambda: "M117 still here" in pty_printer.printer.accepted)
    accepted = pty_printer.printer.accepted
    assert "M117 not sent either" not in accepted and not any(line.startswith("M117 xx") for line in accepted)
    assert running.get("/api/printer").json()["state"]["text"] == "Operational"
    assert running.context.printer.get_current_data()["resends"]["count"] == 0


def test_m112_during_a_print_halts_and_records_an_emergency_stop_without_recovery(start_server):
    running = start_server(settings_values={"serial.virtual.okDelay": 0.002}, connect_virtual=True)
    wait_until(running.context.printer.is_ready)
    running.post("/api/files/local", files={"file": ("long.gcode", LONG_PRINT)}, data={"print": "true"})
    wait_until(lambda: (running.get("/api/job").json()["progress"]["filepos"] or 0) > 2000)

    assert running.post("/api/printer/command", role="user", json={"command": "M112"}).status_code == 204
    state = wait_until(lambda: running.get("/api/job").json()["state"].startswith("Offline after error")
                       and running.get("/api/job").json()["state"], timeout=5)
    assert "emergency stop" in state
    assert running.post("/api/job", role="user", json={"command": "cancel"}).status_code == 409  # nothing runs
    running.context.printer.flush()
    job = running.get("/api/job").json()
    assert "recovery" not in job
    [row] = running.get("/api/history").json()["jobs"]
    assert row["result"] == "cancelled" and "emergency stop" in row["reason"]

    connect(running, "VIRTUAL")  # a new connection resets the board, as opening a USB port does
    assert running.post("/api/printer/command", role="user", json={"command": "M117 again"}).status_code == 204
    wait_until(lambda: "M117 again" in running.context.printer.get_transport().accepted)
