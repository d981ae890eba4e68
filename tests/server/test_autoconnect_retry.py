"""``serial.autoconnect`` with the printer switched off at start: the daemon keeps trying and
connects once the printer is there (a host often boots before its printer)."""

import pytest

from octohost.comm.virtual import VirtualOptions
from octohost.comm.virtual.pty import serve_pty
from octohost.events import Events

from support import wait_until

pytestmark = pytest.mark.e2e

FAST = {"serial.reconnect.initialDelay": 0.1, "serial.reconnect.maxDelay": 0.4, "serial.reconnect.jitter": 0.0,
        "serial.reconnect.stableSeconds": 0.3, "serial.reconnect.failureThreshold": 0,
        "serial.timeout.connection": 2.0}


def test_autoconnect_retries_until_the_printer_is_switched_on(start_server, tmp_path):
    link = str(tmp_path / "printer")  # nothing there yet: the printer is off
    running = start_server(settings_values={**FAST, "serial.autoconnect": True, "serial.port": link,
                                            "serial.baudrate": 115200, "serial.additionalPorts": [link]})
    events = []
    running.context.event_bus.subscribe("*", lambda event, payload: events.append(event))
    wait_until(lambda: events.count(Events.RECONNECT_ATTEMPT) >= 2, timeout=30,
               message=lambda: f"attempts while the printer is off; events {events[-10:]}")
    assert running.context.printer.get_state_id() != "OPERATIONAL"
    server = serve_pty(VirtualOptions(), link=link)  # switched on
    try:
        wait_until(lambda: running.context.printer.get_state_id() == "OPERATIONAL", timeout=30,
                   message=lambda: f"operational; state {running.context.printer.get_state_id()}")
        assert running.get("/api/machine").json()["status"]["code"] == 100
        assert running.context.printer.get_current_connection()[1] == link
    finally:
        server.close()
