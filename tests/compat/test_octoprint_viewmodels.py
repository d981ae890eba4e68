"""OctoPrint plugins' Knockout view models in the web UI (headless Chromium), unmodified plugins from
PyPI: Filetypes sets the upload input's accepted extensions from its settings, HeaderAnnouncements
shows its announcement under the top bar and updates it from its plugin message, and a settings
panel bound to ``settings.plugins.<id>.*`` saves through ``/api/settings``."""

import os
import time

import pytest

from support import wait_until

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _open(browser, live):
    page = browser.new_page()
    page.set_default_timeout(30_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live.url + "/")
    page.fill("#login-user", "admin")
    page.fill("#login-pass", live.password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("html[data-octoprint-viewmodels=started]", state="attached")
    return page, errors


def _settings_panel(page, div):
    page.click("#tab-settings")
    page.click(f'[data-section="{div}"]')
    page.wait_for_selector(f"#{div}", state="visible")


def test_filetypes_sets_the_upload_inputs_accepted_extensions(live_octoprint, browser):
    live = live_octoprint(connect_virtual=False, settings_values={
        "plugins._forcedCompatible": ["filetypes"], "plugins.filetypes.stl": False})
    page, errors = _open(browser, live)
    # its view model read settings.plugins.filetypes.* and set the accept attribute
    assert page.get_attribute("#gcode_upload", "accept") == ".gcode,.gco,.g"
    # its own settings panel is bound to it: ticking stl adds the extension at once
    _settings_panel(page, "settings_plugin_filetypes")
    page.check("#settings-stl")
    assert page.get_attribute("#gcode_upload", "accept") == ".stl,.gcode,.gco,.g"
    assert errors == []


def test_header_announcement_shows_and_follows_its_plugin_message(live_octoprint, browser):
    live = live_octoprint(connect_virtual=False, settings_values={
        "plugins.HeaderAnnouncements.announcementText": "Printer 2 is down"})
    page, errors = _open(browser, live)
    banner = page.locator("#header_announcement")
    banner.wait_for(state="visible")
    assert banner.inner_text().strip() == "Printer 2 is down"
    # moved right after the top bar, as under OctoPrint's #navbar
    assert page.evaluate("document.getElementById('navbar').nextElementSibling.id") == "header_announcement"
    # another admin changes it: the plugin message reaches the view model, the banner follows
    saved = live.post("/api/settings", json={"plugins": {"HeaderAnnouncements": {"announcementText": "Back up"}}})
    assert saved.status_code == 200
    wait_until(lambda: banner.inner_text().strip() == "Back up", message="banner updated from the plugin message")
    assert errors == []


def test_a_settings_panel_bound_to_settings_plugins_saves_through_the_api(live_octoprint, browser):
    live = live_octoprint(connect_virtual=False)
    page, errors = _open(browser, live)
    # HeaderAnnouncements' panel (custom_bindings False) binds settings.plugins.HeaderAnnouncements.*
    _settings_panel(page, "settings_plugin_HeaderAnnouncements")
    page.fill("#settings-HeaderAnnouncements-Announcement", "Filament <b>low</b>")
    page.click("#settings-settings_plugin_HeaderAnnouncements .octoprint-plugin-save")
    stored = wait_until(lambda: live.get("/api/settings").json()["plugins"]["HeaderAnnouncements"]["announcementText"]
                        != "" and live.get("/api/settings").json()["plugins"]["HeaderAnnouncements"],
                        message="the announcement saved")
    # the plugin's on_settings_save ran (bleach keeps <b>)
    assert stored["announcementText"] == "Filament <b>low</b>"
    page.locator("#header_announcement").wait_for(state="visible")
    assert errors == []


def test_the_login_form_asks_for_mfa_totps_code(live_octoprint, browser):
    pyotp = pytest.importorskip("pyotp")
    live = live_octoprint(connect_virtual=False)
    totp = pyotp.TOTP(live.post("/api/plugin/mfa_totp", json={"command": "enroll"}).json()["key"])
    assert live.post("/api/plugin/mfa_totp", json={"command": "activate", "token": totp.now()}).status_code == 200
    page = browser.new_page()
    page.set_default_timeout(30_000)
    page.goto(live.url + "/")
    page.fill("#login-user", "admin")
    page.fill("#login-pass", live.password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-mfa-token", state="visible")
    assert "two-factor" in page.inner_text("#login-error")
    page.fill("#login-mfa-token", totp.at(time.time() + 30))  # (the activation code is spent)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#app", state="visible")
