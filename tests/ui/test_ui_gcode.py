"""The G-code tab: the selected file read by streaming into layers, the print's layer followed live."""

import pytest
from browser_harness import ensure_operational, open_tab

pytestmark = pytest.mark.e2e

LAYERS = 5


def layered_gcode():
    """Five layers of a 20 mm square, with dwells so the print takes a few seconds per layer."""
    lines = ["; five layers", "G90", "M82", "G92 E0", "G1 Z0.2 F600"]
    e = 0.0
    for layer in range(LAYERS):
        lines.append(f"G1 Z{0.2 * (layer + 1):.1f}")
        lines.append("G0 X10 Y10")
        for x, y in ((30, 10), (30, 30), (10, 30), (10, 10)):
            e += 0.8
            lines.append(f"G1 X{x} Y{y} E{e:.2f}")
            lines.append("G4 P300")
    return "\n".join(lines) + "\n"


def test_layers_are_read_and_the_print_is_followed(page, viewport, admin, octohost, operational, tmp_path):
    path = tmp_path / "layers.gcode"
    path.write_text(layered_gcode())
    with open(path, "rb") as f:
        answer = admin.post(octohost.url + "api/files/local", files={"file": ("layers.gcode", f)},
                            data={"select": "true"}, timeout=30)
    assert answer.status_code == 201, answer.text
    page.wait_for_function("() => document.querySelector('#job-file').textContent === 'layers.gcode'")
    open_tab(page, "gcode")
    page.wait_for_function(f"() => document.querySelector('#gcode-canvas').dataset.layers === '{LAYERS}'")
    assert page.inner_text("#gcode-file") == "layers.gcode"
    assert f"{LAYERS} layers, {LAYERS * 4} moves" in page.inner_text("#gcode-status")
    assert page.inner_text("#gcode-layer-text") == f"1 of {LAYERS} (Z 0.20 mm)"
    assert page.get_attribute("#gcode-canvas", "data-layer") == "0"

    page.check("#gcode-follow")
    started = admin.post(octohost.url + "api/job", json={"command": "start"}, timeout=10)
    assert started.status_code == 204, started.text
    # the shown layer follows the print's file position
    page.wait_for_function("() => Number(document.querySelector('#gcode-canvas').dataset.layer) >= 2")
    page.uncheck("#gcode-follow")
    page.fill("#gcode-layer", "0")
    page.dispatch_event("#gcode-layer", "input")
    assert page.get_attribute("#gcode-canvas", "data-layer") == "0"
    assert page.get_attribute("#gcode-canvas", "data-printed") == "4"  # all of layer 1 is printed
    ensure_operational(page, admin, octohost)  # cancels it
