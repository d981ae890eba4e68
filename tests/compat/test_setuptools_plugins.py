"""OctoPrint plugins whose ``setup.py`` imports ``octoprint_setuptools`` (installed from their PyPI
sdists by the fixture with octohost's shim), unmodified, against a live octohost.

Prometheus exporter 1.1.0 and Filetypes 0.1.0 declare no ``__plugin_pythoncompat__`` (Python 2 only by
OctoPrint's rule): as on OctoPrint, they load when named in ``plugins._forcedCompatible``.
"""

import json
import socket

import pytest
import requests
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from test_real_plugins import PushClient

from support import wait_until

pytestmark = pytest.mark.e2e


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listed(live):
    return {p["key"]: p for p in live.get("/plugin/pluginmanager/plugins").json()["plugins"]}


def test_plugins_without_pythoncompat_load_only_when_forced_compatible(live_octoprint):
    live = live_octoprint(connect_virtual=False, settings_values={"plugins._forcedCompatible": ["filetypes"]})
    listed = _listed(live)
    assert listed["filetypes"]["loaded"], listed["filetypes"]["error"]
    assert listed["filetypes"]["version"] == "0.1.0"
    assert not listed["prometheus"]["loaded"]
    assert "__plugin_pythoncompat__ is '>=2.7,<3'" in listed["prometheus"]["error"]
    # HeaderAnnouncements declares ">=3,<4": no forcing needed; its identifier keeps its case
    assert listed["HeaderAnnouncements"]["loaded"], listed["HeaderAnnouncements"]["error"]


class Metrics:
    def __init__(self, port):
        self.url = f"http://127.0.0.1:{port}/metrics"

    def samples(self):
        text = requests.get(self.url, timeout=10).text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def value(self, metric, **labels):
        return self.samples().get((metric, tuple(sorted(labels.items()))))


def test_prometheus_exporter_serves_temperatures_moves_and_print_state(live_octoprint):
    port = _free_port()
    live = live_octoprint(connect_virtual=False, settings_values={
        "plugins._forcedCompatible": ["prometheus"], "plugins.prometheus.prometheus_port": port})
    impl = live.context.plugin_manager.plugins["prometheus"].implementation
    try:
        metrics = Metrics(port)
        # on_after_startup started its own HTTP server on the port from its settings
        assert wait_until(lambda: metrics.value("printer_state", printer_state="init"), message="exporter up") == 1
        assert live.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"}).status_code == 204
        wait_until(live.context.printer.is_operational, message="printer operational")
        # the temperatures.received hook fills the gauges from the virtual printer's reports
        wait_until(lambda: (metrics.value("temperature_bed_actual") or 0) > 0, message="bed temperature gauge")
        assert live.post("/api/printer/command", json={"commands": ["M140 S42"]}).status_code == 204
        wait_until(lambda: metrics.value("temperature_bed_target") == 42, message="bed target gauge")
        # the gcode.sent hook parses moves
        assert live.post("/api/printer/command", json={"commands": ["G1 X12.5 Y3 F3000"]}).status_code == 204
        wait_until(lambda: metrics.value("movement_x") == 12.5, message="movement_x gauge")
        # a print: PrintStarted/PrintDone through on_event, progress through on_print_progress
        gcode = b"G28\nG1 X20 E1.5 F1200\n"
        assert live.post("/api/files/local", files={"file": ("cube.gcode", gcode)},
                         data={"print": "true"}).status_code == 201
        wait_until(lambda: metrics.value("printer_state", printer_state="done") == 1, message="state done")
        assert metrics.value("progress") == 100
        assert metrics.value("printing") == 0
        assert metrics.value("extrusion_total") == 1.5  # (a Counter: the _total suffix is its own)
        assert metrics.value("movement_x") == 20
        assert metrics.value("print_info", name="cube.gcode", path="cube.gcode", origin="local") == 1
    finally:
        if impl.completion_timer is not None:
            impl.completion_timer.cancel()
        for collector in impl.gauges.values():  # its metrics live in the process-wide registry
            REGISTRY.unregister(collector)


def test_header_announcements_cleans_saves_and_pushes_an_announcement(live_octoprint):
    live = live_octoprint(connect_virtual=False)
    push = PushClient(live)
    try:
        assert live.get("/api/settings").json()["plugins"]["HeaderAnnouncements"] == {"announcementText": ""}
        text = 'Printer 2 is down <script>alert(1)</script> see https://example.org'
        saved = live.post("/api/settings", json={"plugins": {"HeaderAnnouncements": {"announcementText": text}}})
        assert saved.status_code == 200, saved.text
        # its on_settings_save sanitised and linkified the text (bleach) before storing it
        expected = ('Printer 2 is down &lt;script&gt;alert(1)&lt;/script&gt; see '
                    '<a href="https://example.org" rel="nofollow">https://example.org</a>')
        assert saved.json()["plugins"]["HeaderAnnouncements"] == {"announcementText": expected}
        assert live.get("/api/settings").json()["plugins"]["HeaderAnnouncements"]["announcementText"] == expected
        # ... and told the connected clients
        wait_until(lambda: {"announcementText": expected} in push.plugin_messages("HeaderAnnouncements"),
                   message="the announcement on the push socket")
        # its generic template (the banner) and its settings panel are in the page, its assets served
        page = live.get("/").text
        assert 'id="header_announcement"' in page
        assert 'id="settings-HeaderAnnouncements-Announcement"' in page
        css = live.get("/plugin/HeaderAnnouncements/static/css/HeaderAnnouncements.css")
        assert css.status_code == 200 and "#header_announcement" in css.text
    finally:
        push.close()


def test_filetypes_settings_are_saved_and_its_panel_is_in_the_page(live_octoprint):
    live = live_octoprint(connect_virtual=False, settings_values={"plugins._forcedCompatible": ["filetypes"]})
    assert live.get("/api/settings").json()["plugins"]["filetypes"] == {"stl": True, "gcode": True, "gco": True,
                                                                         "g": True}
    saved = live.post("/api/settings", json={"plugins": {"filetypes": {"stl": False}}})
    assert saved.status_code == 200, saved.text
    impl = live.context.plugin_manager.plugins["filetypes"].implementation
    assert impl.get_template_vars() == {"stl": False, "gcode": True, "gco": True, "g": True}
    page = live.get("/").text
    assert 'data-bind="checked: type.stl"' in page
    assert json.dumps("filetypes") in page or "filetypes" in page


def test_software_update_checks_are_collected_and_shown_without_checking(live_octoprint):
    live = live_octoprint(connect_virtual=False, settings_values={"plugins._forcedCompatible": ["filetypes"]})
    response = live.get("/plugin/softwareupdate/check")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "current"
    announcements = body["information"]["HeaderAnnouncements"]
    assert announcements["displayName"] == "Headerannouncements Plugin"
    assert announcements["displayVersion"] == "0.1.1"  # its _plugin_version, from the distribution
    assert announcements["check"]["type"] == "github_release" and announcements["check"]["repo"] == \
        "OctoPrint-HeaderAnnouncements"
    assert announcements["updateAvailable"] is False and "pip" in announcements["error"]
    assert body["information"]["filetypes"]["displayVersion"] == "0.1.0"
    anonymous = live.session.__class__()
    assert anonymous.get(live.url + "/plugin/softwareupdate/check", timeout=30).status_code == 403
