"""The Machine on a scripted printer and a real event bus: status per state, heating, warnings,
firmware conditions, whose connect and disconnect it was, restart."""

import pytest

from octohost.events import Events
from octohost.machine.monitor import Machine, MachineBusy
from octohost.machine.registry import DriverRegistry

from support import wait_until


class ScriptedPrinter:
    def __init__(self):
        self.state = "CLOSED"
        self.temperatures = {}
        self.resends = {"count": 0, "transmitted": 0, "ratio": 0}
        self.flags = {}
        self.connects = []

    def get_state_id(self):
        return self.state

    def get_state_string(self):
        return self.state.title()

    def is_operational(self):
        return self.state in ("OPERATIONAL", "PRINTING", "PAUSED")

    def is_printing(self):
        return self.state == "PRINTING"

    def is_paused(self):
        return self.state == "PAUSED"

    def is_error(self):
        return self.state == "CLOSED_WITH_ERROR"

    def get_current_data(self):
        return {"state": {"flags": self.flags}, "resends": dict(self.resends), "job": {"file": {}}, "progress": {}}

    def get_current_temperatures(self):
        return self.temperatures

    def connect(self, port=None, baudrate=None, profile=None):
        self.connects.append((port, baudrate))
        return True


@pytest.fixture
def machine(settings, event_bus):
    settings.set("serial.reconnect.jitter", 0.0)
    printer = ScriptedPrinter()
    machine = Machine(settings, printer, event_bus, DriverRegistry(settings, entry_points=False)).start()
    yield machine, printer, event_bus
    machine.close()


def code(machine):
    return machine.describe()["status"]["code"]


@pytest.mark.parametrize("state, expected", [("CLOSED", 130), ("CONNECTING", 120), ("OPERATIONAL", 100),
                                             ("PRINTING", 110), ("PAUSED", 111)])
def test_each_state_has_its_status(machine, state, expected):
    machine, printer, _ = machine
    printer.state = state
    assert code(machine) == expected


def test_heating_while_ready(machine):
    machine, printer, _ = machine
    printer.state = "OPERATIONAL"
    printer.temperatures = {"tool0": {"actual": 120.0, "target": 200.0}}
    assert code(machine) == 112
    printer.temperatures = {"tool0": {"actual": 199.0, "target": 200.0}}
    assert code(machine) == 100


def test_a_heater_leaving_its_target_while_printing_warns(machine):
    machine, printer, _ = machine
    printer.state = "PRINTING"
    printer.temperatures = {"tool0": {"actual": 200.5, "target": 200.0}}
    assert code(machine) == 110
    printer.temperatures = {"tool0": {"actual": 185.0, "target": 200.0}}
    body = machine.describe()
    assert body["status"]["code"] == 201 and "tool0" in body["statusText"]


def test_a_resend_storm_warns(machine):
    machine, printer, _ = machine
    printer.state = "PRINTING"
    printer.resends = {"count": 0, "transmitted": 100}
    assert code(machine) == 110
    printer.resends = {"count": 30, "transmitted": 400}
    assert code(machine) == 202


def test_firmware_conditions_last_until_the_job_runs_again(machine):
    machine, printer, bus = machine
    printer.state = "PAUSED"
    machine.firmware_message("//action:out_of_filament T0")
    assert code(machine) == 303
    assert machine.errors.entries()[-1]["code"] == 303
    bus.fire(Events.PRINT_RESUMED, {})
    bus.flush()
    printer.state = "PRINTING"
    assert code(machine) == 110


def test_own_connects_are_not_a_persons_and_a_persons_disconnect_disarms(machine):
    machine, printer, bus = machine
    bus.fire(Events.CONNECTING, {"port": "/dev/x", "baudrate": 115200, "profile": "_default"})
    printer.state = "OPERATIONAL"
    bus.fire(Events.CONNECTED, {"port": "/dev/x", "baudrate": 115200})
    bus.flush()
    assert machine.reconnector.armed
    printer.state = "CLOSED_WITH_ERROR"
    bus.fire(Events.ERROR, {"error": "Lost the connection to the printer on /dev/x: gone"})
    bus.flush()
    wait_until(lambda: printer.connects, timeout=5)  # the attempt after 1 s
    assert printer.connects[0] == ("/dev/x", 115200)
    bus.fire(Events.DISCONNECTING)  # the attempt's own connect closes the old connection first
    bus.fire(Events.CONNECTING, {"port": "/dev/x", "baudrate": 115200})
    bus.flush()
    assert machine.reconnector.armed and machine.reconnector.state == "connecting"
    bus.fire(Events.DISCONNECTING)  # now a person
    bus.flush()
    assert not machine.reconnector.armed


def test_restart_clears_and_reconnects_but_not_under_a_job(machine):
    machine, printer, _ = machine
    machine.errors.add(404, "gone")
    printer.state = "PRINTING"
    with pytest.raises(MachineBusy):
        machine.restart()
    assert machine.errors.entries()
    printer.state = "CLOSED"
    machine.restart()
    assert machine.errors.entries() == []
    wait_until(lambda: printer.connects, timeout=5)


def test_a_restart_is_not_ready_until_the_new_connection_is_up(machine):
    """While a restart's attempt runs, the old connection (still open until the printer's connect
    closes it) must not read as ready: a client waiting for 100 would talk to the old one."""
    machine, printer, bus = machine
    printer.state = "OPERATIONAL"
    bus.fire(Events.CONNECTED, {"port": "/dev/x", "baudrate": 115200})
    bus.flush()
    wait_until(lambda: code(machine) == 100, timeout=5)
    machine.restart()
    wait_until(lambda: printer.connects, timeout=5)  # the attempt started; the old connection is still up
    assert machine.reconnector.state == "connecting" and code(machine) == 200
    bus.fire(Events.CONNECTED, {"port": "/dev/x", "baudrate": 115200})
    bus.flush()
    wait_until(lambda: code(machine) == 100, timeout=5)


def test_only_a_started_autoconnect_keeps_trying(machine):
    machine, printer, bus = machine

    def refused():
        raise ValueError("unknown printer profile")

    with pytest.raises(ValueError):
        machine.autoconnect(refused)
    machine.autoconnect(lambda: False)  # a plugin stopped it
    bus.fire(Events.CONNECTING, {"port": "/dev/x", "baudrate": 115200})  # a person's connect, later
    bus.flush()
    assert not machine.reconnector.armed
    machine.autoconnect(lambda: bus.fire(Events.CONNECTING, {"port": "/dev/x", "baudrate": 115200}))
    bus.flush()
    assert machine.reconnector.armed


def test_reconnect_settings_are_read_when_a_connection_breaks(machine, settings):
    machine, printer, bus = machine
    bus.fire(Events.CONNECTED, {"port": "/dev/x", "baudrate": 115200})
    bus.flush()
    settings.set("serial.reconnect.enabled", False)
    bus.fire(Events.ERROR, {"error": "Lost the connection to the printer on /dev/x: gone"})
    bus.flush()
    assert machine.reconnector.state == "idle" and not machine.reconnector.armed
