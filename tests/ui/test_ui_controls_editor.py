"""Settings > Custom controls: the Control tab's buttons edited in the page, other fields kept."""

import pytest
from browser_harness import admin_session, api_get, open_settings, open_tab

pytestmark = pytest.mark.e2e


def test_custom_controls_are_edited_in_the_page(page, viewport, octohost):
    controls = [{"name": "Lights", "children": [{"name": "On", "command": "M355 S1"}]},
                {"name": "Say", "command": "M117 {text}", "input": [{"name": "Text", "parameter": "text"}]}]
    assert admin_session(octohost).post(octohost.url + "api/settings", json={"controls": controls}, timeout=10).ok
    open_settings(page, "controls")
    page.wait_for_selector("#controls-editor .group-name")
    assert page.input_value("#controls-editor .group-name") == "Lights"
    page.fill("#controls-editor .group-name", "Case lights")
    page.click("#settings-controls button:has-text('Add button to group')")
    row = "#controls-editor .control-group-edit .control-row >> nth=1"
    page.fill(f"{row} >> .control-name", "Off")
    page.fill(f"{row} >> .control-commands", "M355 S0\nM117 Lights off")
    page.fill(f"{row} >> .control-confirm", "Turn the lights off?")
    page.click("#settings-controls button[type=submit]")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Settings saved'")
    saved = api_get(page, "/api/settings")["controls"]
    assert saved[0]["name"] == "Case lights"
    assert saved[0]["children"][1] == {"name": "Off", "commands": ["M355 S0", "M117 Lights off"],
                                       "confirm": "Turn the lights off?"}
    assert saved[1]["input"] == [{"name": "Text", "parameter": "text"}] or saved[1]["input"][0]["parameter"] == "text"
    assert saved[1]["command"] == "M117 {text}"
    open_tab(page, "control")
    page.wait_for_selector("#custom-controls button:has-text('Off')")
    assert "Case lights" in page.inner_text("#custom-controls")
