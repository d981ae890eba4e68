"""Home Assistant's OctoPrint library, pyoctoprintapi 0.1.14, against octohost: every call it offers,
the application key flow included (issue #15)."""

import asyncio

import pytest
import requests

from support import wait_until

pyoctoprintapi = pytest.importorskip("pyoctoprintapi")
from pyoctoprintapi import OctoprintClient  # noqa: E402
from pyoctoprintapi.exceptions import PrinterOffline, UnauthorizedException  # noqa: E402

pytestmark = pytest.mark.e2e

GCODE = b"G28\nG92 E0\n" + b"".join(b"G1 X%d Y%d E%.2f F3000\nG4 P50\n" % (i % 50, i % 40, i * 0.05)
                                    for i in range(200))


def _approve_when_asked(running, deadline=10):
    """The user's side of the app key flow: approve the first pending request."""
    pending = wait_until(lambda: running.get("/plugin/appkeys/pending").json()["pending"], timeout=deadline)
    answer = running.post(f"/plugin/appkeys/decision/{pending[0]['user_token']}", json={"decision": True})
    assert answer.status_code == 204, answer.text


def test_every_call_of_pyoctoprintapi(start_server):
    running = start_server(settings_values={"server.commands.serverRestartCommand": "true"})
    host, port = "127.0.0.1", running.server.port
    with open(running.server.settings.folder("uploads") + "/part.gcode", "wb") as handle:
        handle.write(GCODE)

    async def scenario():
        client = OctoprintClient(host, port=port)
        try:
            wrong = OctoprintClient(host, port=port)
            wrong.set_api_key("not-a-key")
            with pytest.raises(UnauthorizedException):
                await wrong.get_server_info()
            await wrong._api._session.close()

            approving = asyncio.create_task(asyncio.to_thread(_approve_when_asked, running))
            key = await client.request_app_key("Home Assistant", "admin", timeout=10)
            await approving
            client.set_api_key(key)

            server = await client.get_server_info()
            assert server.version and server.safe_mode is None
            discovery = await client.get_discovery_info()
            assert discovery is not None and len(discovery.upnp_uuid) == 36
            webcam = await client.get_webcam_info()
            assert webcam.bitrate and webcam.snapshot_ssl_validation_enabled is True
            assert await client.get_tracking_info() is None
            with pytest.raises(PrinterOffline):
                await client.get_printer_info()

            await client.connect(port="VIRTUAL", baud_rate=115200)
            printer = None
            for _ in range(300):  # operational, and the first temperature report is in
                try:
                    printer = await client.get_printer_info()
                    if printer.temperatures:
                        break
                except PrinterOffline:
                    pass
                await asyncio.sleep(0.1)
            assert printer.state.flags.operational
            assert {t.name for t in printer.temperatures} >= {"tool0", "bed"}
            assert all(t.offset == 0 for t in printer.temperatures)

            await client.set_bed_temperature(40)  # pyoctoprintapi posts to //api/printer/bed
            await client.turn_bed_off()
            await client.set_tool_temperature("tool0", 30)
            await client.turn_tool_off("tool0")
            await client.restart()  # the configured server restart command: `true`

            assert running.post("/api/files/local/part.gcode", json={"command": "select", "print": True}
                                ).status_code == 204
            wait_until(lambda: running.context.printer.is_printing())
            await client.pause_job()
            wait_until(lambda: running.context.printer.is_paused())
            await client.resume_job()
            wait_until(lambda: running.context.printer.is_printing())
            job = await client.get_job_info()
            assert job.job.file.name == "part.gcode" and job.progress.completion is not None
            await client.cancel_job()
            wait_until(lambda: running.context.printer.is_operational() and not running.context.printer.is_printing())
            await client.disconnect()
            wait_until(lambda: running.context.printer.is_closed_or_error())
        finally:
            await client._api._session.close()

    asyncio.run(scenario())
    assert requests.get(running.url + "/api/version", timeout=10).status_code == 403
