"""Dark mode follows the system and has a switch; a print's end is announced in the page and,
when allowed, by the browser's Notification API while the tab is in the background."""

import pytest
from browser_harness import open_settings

pytestmark = pytest.mark.e2e

BACKGROUND = "() => getComputedStyle(document.body).backgroundColor"
LIGHT_BG, DARK_BG = "rgb(244, 246, 248)", "rgb(15, 19, 24)"


def test_theme_follows_the_system_and_the_switch(page, viewport):
    try:
        page.emulate_media(color_scheme="dark")
        assert page.evaluate(BACKGROUND) == DARK_BG
        page.emulate_media(color_scheme="light")
        assert page.evaluate(BACKGROUND) == LIGHT_BG
        page.click("#theme-toggle")  # system -> light
        assert page.get_attribute("html", "data-theme") == "light"
        page.emulate_media(color_scheme="dark")
        assert page.evaluate(BACKGROUND) == LIGHT_BG, "the switch overrides the system"
        page.click("#theme-toggle")  # light -> dark
        assert page.evaluate(BACKGROUND) == DARK_BG
        assert "dark" in page.get_attribute("#theme-toggle", "title")
        page.reload()
        page.wait_for_selector("#app", state="visible")
        page.emulate_media(color_scheme="light")
        assert page.evaluate(BACKGROUND) == DARK_BG, "the choice survives a reload"
        page.click("#theme-toggle")  # dark -> system
        assert page.get_attribute("html", "data-theme") is None
        assert page.evaluate(BACKGROUND) == LIGHT_BG
    finally:
        page.evaluate("() => localStorage.removeItem('octohost.theme')")
        page.emulate_media(color_scheme="light")


def test_a_finished_print_is_announced(page, viewport, admin, octohost, operational, tmp_path):
    page.context.grant_permissions(["notifications"])
    open_settings(page, "apikeys")
    page.uncheck("#notify-enable")  # the other viewport's run may have left it ticked
    page.check("#notify-enable")
    page.wait_for_function("() => localStorage.getItem('octohost.notify') === 'on'")  # after the permission
    # record what the page asks of the Notification API, as if its tab were in the background
    page.evaluate("""() => {
        if (!window.shown) {
            const Real = window.Notification;
            window.Notification = class extends Real {
                constructor(title, options) { super(title, options); window.shown.push(title); }
            };
        }
        window.shown = [];
        Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});
    }""")
    try:
        path = tmp_path / "tiny.gcode"
        path.write_text("G90\n" + "".join(f"G1 X{i} Y{i}\n" for i in range(20)))
        with open(path, "rb") as f:
            answer = admin.post(octohost.url + "api/files/local", files={"file": ("tiny.gcode", f)},
                                data={"select": "true", "print": "true"}, timeout=30)
        assert answer.status_code == 201, answer.text
        page.wait_for_function("() => document.querySelector('#toast').textContent === 'Print done: tiny.gcode'")
        assert page.evaluate("() => window.shown") == ["Print done: tiny.gcode"]
    finally:
        page.evaluate("() => { delete document.hidden; localStorage.removeItem('octohost.notify'); }")
