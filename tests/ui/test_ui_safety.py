"""While a print runs, the page offers nothing that would put a command into the middle of it.

Jog, home, extrude, fan and motors-off are locked while printing or paused (as in OctoPrint's UI);
feed and flow rate, temperatures and the terminal stay. "Resume from there" asks before it prints.
The API itself still takes those commands: the lock is the UI's.
"""

import json

import pytest
from browser_harness import open_tab

pytestmark = pytest.mark.e2e

LOCKED = (".jog-x-plus", ".jog-z-minus", "#home-all", ".jog-home-xy", "#extrude-button", "#retract-button",
          "#fan-on", "#fan-off", "#motors-off")


def test_motion_controls_are_locked_while_printing(page, viewport, admin, octohost, printing):
    open_tab(page, "control")
    for selector in LOCKED:
        assert page.is_disabled(selector), f"{selector} is live during the print"
    assert page.is_visible("#control-busy-note")
    assert page.is_enabled("#feedrate-set") and page.is_enabled("#flowrate-set")
    # a click on a locked button sends nothing
    sent = []
    page.on("request", lambda r: sent.append(r.url) if "/api/printer/" in r.url else None)
    page.click(".jog-x-plus", force=True)
    page.click("#motors-off", force=True)
    assert sent == []

    page.click("#job-pause")
    page.wait_for_function("() => document.querySelector('#header-state').textContent.startsWith('Paused')")
    for selector in LOCKED:
        assert page.is_disabled(selector), f"{selector} is live while paused"

    page.click("#job-cancel")
    page.click("#confirm-ok")
    page.wait_for_function("() => document.querySelector('#header-state').textContent === 'Operational'")
    page.wait_for_function("() => !document.querySelector('.jog-x-plus').disabled")
    for selector in LOCKED:
        assert page.is_enabled(selector), f"{selector} stays locked once idle"
    assert page.is_hidden("#control-busy-note")


def test_resume_from_there_asks_before_printing(page, viewport, operational):
    recovery = {"file": {"name": "calibration_cube.gcode", "path": "calibration_cube.gcode", "origin": "local"},
                "pos": 1200, "completion": 42.0, "reason": "printer disconnected", "date": None}
    posted = []

    def job(route):
        if route.request.method == "GET":
            body = {"job": {"file": {}}, "progress": {}, "state": "Operational",
                    "recovery": None if posted else recovery}
            route.fulfill(status=200, content_type="application/json", body=json.dumps(body))
        else:
            posted.append(route.request.post_data_json)
            route.fulfill(status=204)

    page.route("**/api/job", job)
    try:
        page.evaluate("() => import('/static/js/views/recovery.js').then(m => m.load())")
        page.wait_for_selector("#recovery-banner", state="visible")
        page.click("#recovery-resume")
        page.wait_for_selector("#confirm-dialog", state="visible")
        assert "stopped at 42%" in page.inner_text("#confirm-message")
        page.click("#confirm-dialog button[value=cancel]")
        assert posted == []
        assert page.is_visible("#recovery-banner")
        page.click("#recovery-resume")
        page.click("#confirm-ok")
        page.wait_for_selector("#recovery-banner", state="hidden")
        assert posted == [{"command": "recover"}]
    finally:
        page.unroute("**/api/job")
        page.evaluate("() => import('/static/js/views/recovery.js').then(m => m.load())")
        page.wait_for_selector("#recovery-banner", state="hidden")
