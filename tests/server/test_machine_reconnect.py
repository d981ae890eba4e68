"""The machine layer end to end: a real server, the virtual printer on real pseudo-terminals (under a
stable symlink, so it can be unplugged and re-plugged under one port name) and over TCP.

Unplug and re-plug while idle and while printing, a firmware reset under a print, a dead line that
opens the circuit, a dropped and then flapping network socket, a user's disconnect, and plugin
drivers (one lacking a required setting; OctoPrint's serial.factory hook as a driver)."""

import socket
import subprocess
import sys
import threading

import pytest

from octohost.comm.virtual import VirtualOptions, VirtualPrinter
from octohost.comm.virtual.pty import serve_pty
from octohost.events import Events

from support import wait_until

pytestmark = pytest.mark.e2e

FAST = {"serial.reconnect.initialDelay": 0.1, "serial.reconnect.maxDelay": 0.4, "serial.reconnect.jitter": 0.0,
        "serial.reconnect.stableSeconds": 0.3, "serial.reconnect.failureThreshold": 0,
        "serial.timeout.connection": 2.0}
#: 600 moves; at 10 ms an ok the print takes about 12 s, long enough to pull the cable under it
GCODE = b"G28\n" + b"".join(b"G1 X%d Y10 F6000\n" % (i % 200) for i in range(600)) + b"M84\n"


@pytest.fixture
def linked(tmp_path):
    """(link, plug): ``plug(**options)`` serves a new virtual printer on a pty under ``link``."""
    link = str(tmp_path / "printer")
    servers = []

    def plug(**options):
        server = serve_pty(VirtualOptions(**options), link=link)
        servers.append(server)
        return server

    yield link, plug
    for server in servers:
        server.close()


def record(running):
    events = []
    running.context.event_bus.subscribe("*", lambda event, payload: events.append((event, payload)))
    return events


def machine(running):
    response = running.get("/api/machine")
    assert response.status_code == 200, response.text
    return response.json()


def wait_status(running, code, timeout=30):
    last = {}

    def reached():
        last.update(machine(running))
        return last["status"]["code"] == code and dict(last)

    return wait_until(reached, timeout=timeout, interval=0.05,
                      message=lambda: f"status {code}; it was {last.get('status')} {last.get('statusText')!r}")


def connect(running, port):
    response = running.post("/api/connection", json={"command": "connect", "port": port, "baudrate": 115200})
    assert response.status_code == 204, response.text


def start_print(running):
    response = running.post("/api/files/local", files={"file": ("long.gcode", GCODE)},
                            data={"select": "true", "print": "true"})
    assert response.status_code == 201, response.text
    wait_until(lambda: running.context.printer.is_printing(), timeout=10)


def error_codes(running):
    return [entry["code"] for entry in machine(running)["errors"]]


def connected(start_server, linked, settings=None, **options):
    """A server connected (status 100) to a virtual printer with ``options`` plugged under the link, with
    ``settings`` over FAST: (board, running, events)."""
    link, plug = linked
    board = plug(**options)
    running = start_server(settings_values={**FAST, "serial.additionalPorts": [link], **(settings or {})})
    events = record(running)
    connect(running, link)
    wait_status(running, 100)
    return board, running, events


def printing(start_server, linked):
    """``connected`` to a printer answering in 10 ms, printing GCODE, its first 50 lines accepted."""
    board, running, events = connected(start_server, linked, ok_delay=0.01)
    start_print(running)
    wait_until(lambda: board.printer.accepted_count > 50, timeout=20)
    return board, running, events


def test_unplug_and_replug_while_idle_reconnects_by_itself(start_server, linked):
    link, plug = linked
    first, running, events = connected(start_server, linked)
    ready = machine(running)
    assert ready["driver"]["slug"] == "serial" and ready["connection"]["state"] == "connected"
    assert ready["connection"]["lastCommunication"] is not None

    first.printer.disconnect()  # the cable is pulled: the port goes away with it
    waiting = wait_status(running, 200)
    assert waiting["connection"]["state"] in ("waiting", "connecting")
    wait_until(lambda: 401 in error_codes(running), timeout=10)  # attempts find no port while unplugged
    assert 404 in error_codes(running)  # the loss itself

    plug()
    back = wait_status(running, 100)
    assert back["connection"]["state"] == "connected"
    assert running.context.printer.get_state_id() == "OPERATIONAL"
    attempts = [payload for event, payload in events if event == Events.RECONNECT_ATTEMPT]
    assert attempts and all(payload["port"] == link for payload in attempts)
    assert any(event == Events.MACHINE_STATUS_CHANGED and payload["status"]["code"] == 200
               for event, payload in events)


def _file_moves_after_hello(printer):
    """File moves the firmware accepted after the last hello (the reconnect's ``M110``)."""
    accepted = printer.accepted
    hellos = [i for i, command in enumerate(accepted) if command.startswith("M110")]
    return [command for command in accepted[hellos[-1] + 1:] if command.startswith("G1 X")] if hellos else None


def test_unplug_mid_print_fails_the_job_with_recovery_and_the_replugged_printer_stays_idle(start_server, linked):
    _, plug = linked
    first, running, events = printing(start_server, linked)

    first.printer.disconnect()
    wait_until(lambda: any(event == Events.PRINT_FAILED for event, _ in events), timeout=10)
    recovery = wait_until(lambda: running.get("/api/job").json().get("recovery"), timeout=10)
    assert recovery["file"]["path"] == "long.gcode" and recovery["pos"] > 0

    second = plug(ok_delay=0.01)
    wait_status(running, 100)
    assert not running.context.printer.is_printing()
    wait_until(lambda: _file_moves_after_hello(second.printer) is not None, timeout=10)
    assert _file_moves_after_hello(second.printer) == []
    assert not [command for command in second.printer.accepted if command.startswith("G1 X")]
    assert running.get("/api/job").json()["recovery"]["file"]["path"] == "long.gcode"  # resume is offered


def test_a_firmware_reset_mid_print_fails_the_job_and_reconnects(start_server, linked):
    board, running, events = printing(start_server, linked)

    board.printer.reset()
    failed = wait_until(lambda: [p for e, p in events if e == Events.PRINT_FAILED], timeout=10)
    assert "restarted" in failed[0]["reason"]
    wait_until(lambda: 304 in error_codes(running), timeout=10)
    wait_status(running, 100)  # the same port, reconnected
    assert not running.context.printer.is_printing()
    assert _file_moves_after_hello(board.printer) == []
    assert running.get("/api/job").json()["recovery"]["file"]["path"] == "long.gcode"


def test_a_dead_line_reconnects_and_opens_the_circuit_until_the_printer_answers(start_server, linked):
    board, running, events = connected(start_server, linked, settings={
        "serial.timeout.communication": 0.3, "serial.maxCommunicationTimeouts.idle": 1,
        "serial.timeout.connection": 0.5, "serial.reconnect.failureThreshold": 2,
        "serial.reconnect.openSeconds": 1.5})

    assert running.post("/api/printer/command", json={"command": "!!DEBUG:hang"}).status_code == 204
    wait_until(lambda: 403 in error_codes(running), timeout=15)  # "stopped answering"
    opened = wait_status(running, 405, timeout=20)  # the attempts get no answer either
    assert opened["connection"]["circuit"] == "open"
    assert opened["connection"]["nextRetryIn"] is not None

    board.printer.reset()  # the firmware answers again
    wait_status(running, 100, timeout=20)  # the half-open probe connected
    wait_until(lambda: machine(running)["connection"]["circuit"] == "closed", timeout=10)
    assert len([e for e, _ in events if e == Events.RECONNECT_ATTEMPT]) >= 2


class TcpBridge:
    """A network serial bridge on 127.0.0.1: each connection gets a fresh virtual printer, or with
    ``flapping`` is closed as soon as it is accepted; ``drop()`` closes the open connections."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.flapping = False
        self.accepted = 0
        self._connections = []
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"socket://127.0.0.1:{self.port}"

    def _accept(self):
        while not self._stopped:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.flapping:
                conn.close()
                continue
            printer = VirtualPrinter(VirtualOptions())
            printer.redirect_output(lambda data, conn=conn: self._send(conn, data))
            self._connections.append((conn, printer))
            threading.Thread(target=self._pump, args=(conn, printer), daemon=True).start()

    @staticmethod
    def _send(conn, data):
        try:
            conn.sendall(data)
        except OSError:
            pass

    @staticmethod
    def _pump(conn, printer):
        while True:
            try:
                data = conn.recv(4096)
            except OSError:
                data = b""
            if not data:
                printer.close()
                return
            printer.write(data)

    def drop(self):
        for conn, _ in self._connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self._connections = []

    def close(self):
        self._stopped = True
        self.drop()
        self.listener.close()


@pytest.fixture
def bridge():
    bridge = TcpBridge()
    yield bridge
    bridge.close()


def test_a_dropped_socket_reconnects_and_a_flapping_one_opens_the_circuit(start_server, bridge):
    running = start_server(settings_values={**FAST, "serial.reconnect.failureThreshold": 3,
                                            "serial.reconnect.openSeconds": 1.0})
    connect(running, bridge.url)
    ready = wait_status(running, 100)
    assert ready["driver"]["slug"] == "network"

    bridge.drop()  # the serial server went away for a moment
    wait_until(lambda: 404 in error_codes(running), timeout=10)
    wait_status(running, 100)
    assert bridge.accepted == 2

    bridge.flapping = True  # now every connection is cut at once
    bridge.drop()
    opened = wait_status(running, 405, timeout=20)
    assert opened["connection"]["circuit"] == "open"
    accepted = bridge.accepted
    assert accepted >= 4  # the loss, then attempts until the threshold

    bridge.flapping = False
    wait_status(running, 100, timeout=20)  # the half-open probe after openSeconds
    assert bridge.accepted == accepted + 1


def test_a_disconnect_someone_asked_for_is_never_undone(start_server, linked):
    link, plug = linked
    board = plug()
    running = start_server(settings_values={**FAST, "serial.additionalPorts": [link]})
    events = record(running)
    connect(running, link)
    wait_status(running, 100)
    assert running.post("/api/connection", json={"command": "disconnect"}).status_code == 204
    running.context.event_bus.flush()
    board.printer.disconnect()
    closed = wait_status(running, 130)
    assert closed["connection"]["state"] == "disconnected" and closed["connection"]["attempt"] == 0
    running.context.event_bus.flush()
    assert not running.context.machine.reconnector.armed
    assert not [e for e, _ in events if e in (Events.RECONNECT_ATTEMPT, Events.RECONNECT_SCHEDULED)]


def test_a_plugin_driver_lacking_a_required_setting_does_not_start_and_names_it(start_server):
    opened = []

    def open_acme(request):
        opened.append(dict(request.values))
        return VirtualPrinter(VirtualOptions())

    class AcmePlugin:
        __plugin_name__ = "Acme driver"
        __plugin_hooks__ = {"octohost.machine.drivers": lambda: [{
            "slug": "acme", "name": "Acme bus", "description": "Printers on the Acme bus.",
            "settings": [{"key": "host", "type": "string", "required": True, "description": "Bus host"},
                         {"key": "slot", "type": "integer", "default": 1}],
            "open": open_acme}]}

    running = start_server(settings_values={"serial.driver": "acme"}, plugins={"acme": AcmePlugin})
    body = machine(running)
    assert body["driver"]["slug"] == "acme"
    assert body["driver"]["settings"][0] == {"key": "host", "type": "string", "default": None, "required": True,
                                             "description": "Bus host"}
    assert body["status"]["code"] == 406 and "'host'" in body["statusText"]
    assert {d["slug"] for d in body["drivers"]} >= {"serial", "network", "virtual", "acme"}

    connect(running, "VIRTUAL")
    wait_until(lambda: running.context.printer.is_error(), timeout=10)
    assert "'host'" in running.get("/api/connection").json()["current"]["state"]
    assert machine(running)["status"]["code"] == 406
    assert opened == []

    running.context.settings.set("serial.driverSettings", {"acme": {"host": "bus0"}})
    connect(running, "VIRTUAL")
    wait_status(running, 100)
    assert opened == [{"host": "bus0", "slot": 1, "port": "VIRTUAL", "baudrate": 115200}]


def test_a_serial_factory_plugin_is_a_driver_and_still_opens_ports(start_server):
    opened = []

    def factory(comm_instance, port, baudrate, read_timeout):
        opened.append(port)
        printer = VirtualPrinter(VirtualOptions())
        printer.timeout = read_timeout
        return printer

    class FactoryPlugin:
        __plugin_name__ = "Old factory"
        __plugin_hooks__ = {"octoprint.comm.transport.serial.factory": factory}

    running = start_server(plugins={"oldfactory": FactoryPlugin})
    assert "serial-factory-oldfactory" in {d["slug"] for d in machine(running)["drivers"]}
    connect(running, "VIRTUAL")
    ready = wait_status(running, 100)
    assert opened == ["VIRTUAL"] and ready["driver"]["slug"] == "serial-factory-oldfactory"


def test_firmware_problems_show_as_machine_status_and_restart_clears_them(start_server, linked):
    link, plug = linked
    plug()
    running = start_server(settings_values={**FAST, "serial.additionalPorts": [link]})
    connect(running, link)
    wait_status(running, 100)
    running.post("/api/printer/command", json={"command": "!!DEBUG:action out_of_filament T0"})
    runout = wait_status(running, 303)
    assert runout["status"]["color"] == "warning" and "out_of_filament" in runout["statusText"]

    running.post("/api/printer/command", json={"command": "!!DEBUG:error Thermal Runaway, system stopped!"})
    wait_status(running, 301)
    assert running.post("/api/machine", json={"command": "restart"}).status_code == 204
    after = wait_status(running, 100)
    assert [e for e in after["errors"] if e["code"] in (301, 303)] == []


def test_snapshots_reach_subscribers_every_second_while_connected(start_server, linked):
    link, plug = linked
    plug()
    running = start_server(settings_values={"serial.additionalPorts": [link]})
    connect(running, link)
    wait_status(running, 100)
    snapshots = []
    unsubscribe = running.context.machine.subscribe(snapshots.append)
    wait_until(lambda: len(snapshots) >= 3, timeout=5)
    unsubscribe()
    latest = snapshots[-1].as_dict()
    assert latest["state"] == "OPERATIONAL" and latest["status"]["code"] == 100
    assert set(latest) == {"time", "state", "stateText", "status", "statusText", "progress", "temperatures",
                           "job", "errors", "connection"}
    assert "tool0" in latest["temperatures"]
    assert snapshots[-1].time - snapshots[-3].time < 2.5


def _virtual_cli(basedir, link):
    process = subprocess.Popen([sys.executable, "-m", "octohost", "--basedir", str(basedir), "virtual", "--pty",
                                "--link", link], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout.readline().strip() == link
    return process


def test_stopping_and_restarting_octohost_virtual_under_its_link_reconnects(start_server, tmp_path):
    link = str(tmp_path / "ttyPRINTER")
    process = _virtual_cli(tmp_path / "virtual", link)
    try:
        running = start_server(settings_values={**FAST, "serial.additionalPorts": [link]})
        connect(running, link)
        wait_status(running, 100)
        process.terminate()
        assert process.wait(timeout=10) == 0
        wait_status(running, 200)
        process.stdout.close()
        process = _virtual_cli(tmp_path / "virtual", link)
        back = wait_status(running, 100)
        assert back["connection"]["state"] == "connected"
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)
        process.stdout.close()


def test_an_emergency_stop_is_a_machine_problem_and_never_reconnects(start_server, linked):
    link, plug = linked
    plug()
    running = start_server(settings_values={**FAST, "serial.additionalPorts": [link]})
    events = record(running)
    connect(running, link)
    wait_status(running, 100)
    assert running.post("/api/printer/command", json={"command": "M112"}).status_code == 204
    halted = wait_status(running, 302)
    assert halted["status"]["color"] == "danger" and "M112" in halted["statusText"]
    running.context.event_bus.flush()
    assert not running.context.machine.reconnector.armed
    assert not [e for e, _ in events if e in (Events.RECONNECT_ATTEMPT, Events.RECONNECT_SCHEDULED)]
