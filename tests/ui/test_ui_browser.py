"""The web UI in headless Chromium against ``octohost serve --virtual``, as a person uses it.

The tests share one server and one page, like one sitting at the printer: first run, login,
connect, upload, print, pause/resume/cancel, jog, terminal, custom controls, profile, settings,
scripts, plugins, history, thumbnails, recovery after a restart; screenshots along the way. Each
test still runs alone (``pytest tests/ui/test_ui_browser.py::name``): the fixtures in conftest.py make
the state it needs (an admin, a logged-in page, a connected printer, the uploaded file, a print) over
the API when an earlier test has not made it already. The first run has a server of its own.
"""

import re

import pytest
import requests
from browser_harness import (
    ADMIN,
    DESKTOP,
    OFFLINE_NOISE,
    PASSWORD,
    PHONE,
    WAIT,
    ConsoleWatch,
    admin_session,
    api_get,
    gcode_with_thumbnail,
    header_state,
    open_settings,
    open_tab,
    progress,
    screenshot,
    start_print,
)

pytestmark = pytest.mark.e2e


def test_first_run_creates_the_admin(fresh_page):
    page = fresh_page
    page.wait_for_selector("#firstrun-form", state="visible")
    assert page.is_hidden("#app")
    screenshot(page, "firstrun-desktop")
    page.fill("#firstrun-user", ADMIN)
    page.fill("#firstrun-pass", PASSWORD)
    page.fill("#firstrun-pass2", PASSWORD + "typo")
    page.click("#firstrun-form button[type=submit]")
    assert "do not match" in page.inner_text("#firstrun-error")
    page.fill("#firstrun-pass2", PASSWORD)
    page.click("#firstrun-form button[type=submit]")
    page.wait_for_selector("#app", state="visible")
    assert page.inner_text("#current-user") == ADMIN
    assert page.is_visible("#tab-settings")


def test_logout_and_login_again(page, session):
    watch = session[1]
    page.click("#logout-button")
    page.wait_for_selector("#login-form", state="visible")
    assert page.is_hidden("#app")
    screenshot(page, "login-desktop")
    page.fill("#login-user", ADMIN)
    page.fill("#login-pass", "wrong password")
    with watch.expecting(r"status of 403 .* at \S+/api/login$"):
        page.click("#login-form button[type=submit]")
        page.wait_for_selector("#login-error", state="visible")
    assert "Wrong user name or password" in page.inner_text("#login-error")
    page.fill("#login-pass", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#app", state="visible")
    assert page.inner_text("#current-user") == ADMIN


def test_connect_to_the_virtual_printer(page):
    page.wait_for_function("() => document.querySelector('#connection-port').options.length > 1")
    if page.inner_text("#connection-button") == "Disconnect":
        page.click("#connection-button")
        page.wait_for_function("() => document.querySelector('#header-state').textContent.startsWith('Offline')")
    page.select_option("#connection-port", "VIRTUAL")
    page.click("#connection-button")
    page.wait_for_function("() => document.querySelector('#header-state').textContent === 'Operational'")
    assert page.inner_text("#connection-button") == "Disconnect"
    assert page.is_disabled("#connection-port")


def test_upload_by_the_file_input(page, gcode_file):
    page.set_input_files("#gcode_upload", str(gcode_file))
    item = page.wait_for_selector('#file-list li[data-path="calibration_cube.gcode"]')
    assert "calibration_cube.gcode" in item.inner_text()
    files = api_get(page, "/api/files/local")
    assert [f["name"] for f in files["files"]] == ["calibration_cube.gcode"]


def test_print_shows_rising_progress_and_a_live_temperature_graph(page, uploaded, operational):
    open_tab(page, "temperature")
    page.wait_for_selector('#heater-rows tr[data-heater="tool0"]')
    row = '#heater-rows tr[data-heater="tool0"]'
    page.fill(f"{row} input[type=number] >> nth=0", "60")
    page.click(f"{row} button:has-text('Set')")
    page.wait_for_function(f"() => document.querySelector('{row} .target').textContent.startsWith('60.0')")
    points_before = int(page.get_attribute("#temp-graph", "data-points") or 0)

    page.click('#file-list li[data-path="calibration_cube.gcode"] .file-name')
    page.click('#file-list li[data-path="calibration_cube.gcode"] button:has-text("Print")')
    page.wait_for_function("() => document.querySelector('#header-state').textContent.startsWith('Printing')")
    assert page.inner_text("#job-file") == "calibration_cube.gcode"
    first = progress(page)
    page.wait_for_function(f"() => parseFloat(document.querySelector('#job-progress-text').textContent) > {first + 2}")
    assert re.fullmatch(r"Printing \d+\.\d%", header_state(page))
    page.wait_for_function(f"() => Number(document.querySelector('#temp-graph').dataset.points) > {points_before + 4}")
    actual = page.inner_text(f"{row} .actual")
    assert actual.endswith("°C") and float(actual[:-2]) > 20
    screenshot(page, "printing-desktop")


def test_pause_resume_and_cancel_with_confirmation(page, printing):
    page.click("#job-pause")
    page.wait_for_function("() => document.querySelector('#header-state').textContent.startsWith('Paused')")
    assert page.inner_text("#job-pause") == "Resume"
    paused_at = progress(page)
    points = int(page.get_attribute("#temp-graph", "data-points") or 0)  # updates keep coming while paused
    page.wait_for_function(f"() => Number(document.querySelector('#temp-graph').dataset.points) > {points + 2}")
    assert progress(page) == paused_at
    page.click("#job-pause")
    page.wait_for_function("() => document.querySelector('#header-state').textContent.startsWith('Printing')")
    page.wait_for_function(f"() => parseFloat(document.querySelector('#job-progress-text').textContent) > {paused_at}")

    page.click("#job-cancel")
    page.wait_for_selector("#confirm-dialog", state="visible")
    page.click("#confirm-dialog button[value=cancel]")
    assert header_state(page).startswith("Printing")
    page.click("#job-cancel")
    page.click("#confirm-ok")
    page.wait_for_function("() => document.querySelector('#header-state').textContent === 'Operational'")


def test_jog_and_home_send_their_commands(page, operational):
    open_tab(page, "control")
    page.check('#jog-steps input[value="1"]')
    with page.expect_response("**/api/printer/printhead") as jog:
        page.click(".jog-x-plus")
    assert jog.value.status == 204
    assert jog.value.request.post_data_json == {"command": "jog", "x": 1}
    page.check('#jog-steps input[value="10"]')
    with page.expect_response("**/api/printer/printhead") as jog:
        page.click(".jog-z-minus")
    assert jog.value.request.post_data_json == {"command": "jog", "z": -10}
    with page.expect_response("**/api/printer/printhead") as home:
        page.click("#home-all")
    assert home.value.status == 204
    assert home.value.request.post_data_json == {"command": "home", "axes": ["x", "y", "z"]}


def test_tool_fan_motor_and_rate_controls_send_their_commands(page, operational):
    open_tab(page, "control")
    page.fill("#extrude-amount", "7.5")
    with page.expect_response("**/api/printer/tool") as extrude:
        page.click("#extrude-button")
    assert extrude.value.status == 204
    assert extrude.value.request.post_data_json == {"command": "extrude", "amount": 7.5}
    with page.expect_response("**/api/printer/tool") as retract:
        page.click("#retract-button")
    assert retract.value.request.post_data_json == {"command": "extrude", "amount": -7.5}
    for button, command in (("#fan-on", "M106 S255"), ("#fan-off", "M107"), ("#motors-off", "M18")):
        with page.expect_response("**/api/printer/command") as sent:
            page.click(button)
        assert sent.value.status == 204
        assert sent.value.request.post_data_json == {"commands": [command]}
    page.fill("#feedrate", "120")
    assert page.inner_text("#feedrate-value") == "120"
    with page.expect_response("**/api/printer/printhead") as feed:
        page.click("#feedrate-set")
    assert feed.value.status == 204
    assert feed.value.request.post_data_json == {"command": "feedrate", "factor": 120}
    page.fill("#flowrate", "95")
    with page.expect_response("**/api/printer/tool") as flow:
        page.click("#flowrate-set")
    assert flow.value.status == 204
    assert flow.value.request.post_data_json == {"command": "flowrate", "factor": 95}


def test_presets_offsets_and_all_off(page, operational):
    open_tab(page, "temperature")
    with page.expect_response("**/api/printer/bed") as bed:
        page.click("#temp-presets button:has-text('PLA')")
    assert bed.value.request.post_data_json == {"command": "target", "target": 60}
    page.wait_for_function(
        "() => document.querySelector('#heater-rows tr[data-heater=\"tool0\"] .target')"
        ".textContent.startsWith('210.0')")
    page.wait_for_function(
        "() => document.querySelector('#heater-rows tr[data-heater=\"bed\"] .target').textContent.startsWith('60.0')")
    with page.expect_response("**/api/printer/tool") as offset:
        page.fill('#heater-rows tr[data-heater="tool0"] td:last-child input', "5")
        page.press('#heater-rows tr[data-heater="tool0"] td:last-child input', "Tab")
    assert offset.value.status == 204
    assert offset.value.request.post_data_json == {"command": "offset", "offsets": {"tool0": 5}}
    page.click("#temp-all-off")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#heater-rows .target')].every(cell => cell.textContent === 'off')")
    with page.expect_response("**/api/printer/tool"):
        page.fill('#heater-rows tr[data-heater="tool0"] td:last-child input', "0")
        page.press('#heater-rows tr[data-heater="tool0"] td:last-child input', "Tab")

def test_terminal_command_shows_its_answer(page, operational):
    open_tab(page, "terminal")
    page.fill("#terminal-input", "M115")
    page.press("#terminal-input", "Enter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#terminal-output .line')]"
        ".some(l => l.textContent.includes('FIRMWARE_NAME'))")
    page.press("#terminal-input", "ArrowUp")
    assert page.input_value("#terminal-input") == "M115"
    page.fill("#terminal-input", "")
    temperature_lines = page.evaluate(
        "() => [...document.querySelectorAll('#terminal-output .line')]"
        ".filter(l => /Send: (N\\d+ )?M105/.test(l.textContent)).length")
    assert temperature_lines == 0


def test_a_blocked_command_says_so_in_a_message_and_the_terminal(page, operational):
    """M1 is in serial.blockedCommands by default: the host keeps it from the printer and says why."""
    open_tab(page, "terminal")
    page.evaluate("() => { document.querySelector('#toast').textContent = ''; }")
    page.fill("#terminal-input", "M1")
    page.press("#terminal-input", "Enter")
    message = "Not sending M1 to printer as it's configured as a blocked command"
    page.wait_for_function("(text) => document.querySelector('#toast').textContent === text", arg=message)
    assert "toast-warning" in page.get_attribute("#toast", "class")
    page.wait_for_function(
        "(text) => [...document.querySelectorAll('#terminal-output .line')].some(l => l.textContent.includes(text))",
        arg="Info: " + message)


def test_custom_control_button_sends_its_command(page, octohost, operational):
    controls = [{"name": "Greetings", "children": [{"name": "Say hello", "command": "M117 Hello from a control"}]},
                {"name": "Show", "command": "M117 {text}",
                 "input": [{"name": "Text", "parameter": "text", "default": "x"}]},
                {"name": "Where", "command": "M114"},
                {"name": "Position", "regex": "X:([0-9.]+) Y:([0-9.]+)", "template": "X {0} Y {1}"}]
    assert admin_session(octohost).post(octohost.url + "api/settings", json={"controls": controls}, timeout=10).ok
    open_tab(page, "control")
    page.wait_for_selector("#custom-controls-box", state="visible")
    assert "Greetings" in page.inner_text("#custom-controls")
    with page.expect_response("**/api/printer/command") as sent:
        page.click("#custom-controls button:has-text('Say hello')")
    assert sent.value.status == 204
    assert sent.value.request.post_data_json == {"commands": ["M117 Hello from a control"]}
    page.click("#custom-controls button:has-text('Where')")  # the feedback control shows the answer
    page.wait_for_function("() => /^X [0-9.]+ Y [0-9.]+$/.test("
                           "document.querySelector('#custom-controls .control-feedback output').textContent)")
    open_tab(page, "terminal")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#terminal-output .line')]"
        ".some(l => l.textContent.includes('M117 Hello from a control'))")
    open_tab(page, "control")
    page.fill("#custom-controls input[aria-label=Text]", "Typed in the UI")
    with page.expect_response("**/api/printer/command") as sent:
        page.click("#custom-controls button:has-text('Show')")
    assert sent.value.status == 204
    assert sent.value.request.post_data_json == {"commands": ["M117 {text}"], "parameters": {"text": "Typed in the UI"}}
    open_tab(page, "terminal")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#terminal-output .line')]"
        ".some(l => l.textContent.includes('M117 Typed in the UI'))")


def test_profile_edit(page):
    open_settings(page, "profiles")
    page.wait_for_selector("#profile-list li")
    profile_id = page.get_attribute("#profile-list li >> nth=0", "data-profile")
    page.click("#profile-list li >> nth=0 >> button:has-text('Edit')")
    page.wait_for_selector("#profile-form", state="visible")
    page.fill("#profile-name", "Workshop printer")
    page.fill('#profile-form input[name="volume.width"]', "235")
    page.click("#profile-save")
    page.wait_for_selector("#profile-form", state="hidden")
    page.wait_for_selector("#profile-list li:has-text('Workshop printer')")
    profile = api_get(page, "/api/printerprofiles")["profiles"][profile_id]
    assert profile["name"] == "Workshop printer"
    assert profile["volume"]["width"] == 235


def test_profile_create_with_two_extruders_and_delete(page):
    open_settings(page, "profiles")
    page.click("#profile-new")
    page.fill("#profile-id", "dual")
    page.fill("#profile-name", "Dual extruder")
    page.select_option("#profile-formfactor", "circular")
    page.select_option("#profile-origin", "center")
    page.fill('#profile-form input[name="extruder.count"]', "2")
    page.fill("#profile-offsets", "20,0")
    page.check("#profile-custombox")
    for axis, low, high in (("x", -100, 100), ("y", -100, 100), ("z", 0, 200)):
        page.fill(f'#profile-form input[name="volume.custom_box.{axis}_min"]', str(low))
        page.fill(f'#profile-form input[name="volume.custom_box.{axis}_max"]', str(high))
    page.click("#profile-save")
    page.wait_for_selector('#profile-list li[data-profile="dual"]')
    profile = api_get(page, "/api/printerprofiles")["profiles"]["dual"]
    assert profile["extruder"]["count"] == 2
    assert [list(o) for o in profile["extruder"]["offsets"]] == [[0, 0], [20, 0]]
    assert profile["volume"]["formFactor"] == "circular"
    assert profile["volume"]["custom_box"]["x_min"] == -100
    page.click('#profile-list li[data-profile="dual"] button:has-text("Delete")')
    page.click("#confirm-ok")
    page.wait_for_selector('#profile-list li[data-profile="dual"]', state="detached")
    assert "dual" not in api_get(page, "/api/printerprofiles")["profiles"]


def test_settings_save(page):
    open_settings(page, "features")
    page.fill("#setting-appearance-name", "Garage MK3")
    page.click("#settings-features button[type=submit]")
    page.wait_for_function("() => document.querySelector('#brand-name').textContent === 'Garage MK3'")
    open_settings(page, "serial")
    page.click('#settings-serial details[data-group="Timeouts"] > summary')  # folded: not an everyday setting
    page.fill("#setting-serial-timeout-communication", "45")
    # the features save above left "Settings saved" in the toast: clear it, or the wait below could
    # return before this save has been answered
    page.evaluate("() => { document.querySelector('#toast').textContent = ''; }")
    page.click("#settings-serial button[type=submit]")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Settings saved'")
    settings = api_get(page, "/api/settings")
    assert settings["appearance"]["name"] == "Garage MK3"
    assert settings["serial"]["timeout"]["communication"] == 45
    open_settings(page, "temperatures")
    page.click("#preset-add")
    page.fill("#preset-rows tr:last-child input[data-key=name]", "TPU")
    page.fill("#preset-rows tr:last-child input[data-key=extruder]", "225")
    page.fill("#preset-rows tr:last-child input[data-key=bed]", "50")
    page.click("#settings-temperatures button[type=submit]")
    page.wait_for_selector("#temp-presets button:has-text('TPU')", state="attached")
    presets = api_get(page, "/api/settings")["temperature"]["profiles"]
    assert presets[-1] == {"name": "TPU", "extruder": 225, "bed": 50, "chamber": None}


def test_webcam_shows_once_its_url_is_set(page):
    open_tab(page, "control")
    assert page.is_hidden("#webcam")
    open_settings(page, "webcam")
    page.fill("#setting-webcam-stream", "/static/img/favicon.svg")
    page.check("#setting-webcam-flipH")
    page.click("#settings-webcam button[type=submit]")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Settings saved'")
    open_tab(page, "control")
    page.wait_for_selector("#webcam", state="visible")
    assert page.get_attribute("#webcam-stream", "src") == "/static/img/favicon.svg"
    assert "scaleX(-1)" in page.get_attribute("#webcam-stream", "style")
    open_tab(page, "temperature")
    assert page.get_attribute("#webcam-stream", "src") is None



def test_gcode_script_edit_survives_a_settings_update_and_saves(page, octohost):
    open_settings(page, "scripts")
    page.wait_for_selector("#script-afterPrintDone")
    assert "M84" in page.input_value("#script-afterPrintCancelled")
    page.fill("#script-afterPrintDone", "M117 Finished {{ script.name }}")
    page.evaluate("document.activeElement.blur()")
    admin = admin_session(octohost)  # another client changes another setting meanwhile
    assert admin.post(octohost.url + "api/settings", json={"appearance": {"name": "Script bench"}}, timeout=10).ok
    page.wait_for_function("() => document.title.startsWith('Script bench')")
    assert page.input_value("#script-afterPrintDone") == "M117 Finished {{ script.name }}"
    page.click("#settings-scripts button[type=submit]")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Settings saved'")
    assert api_get(page, "/api/settings")["scripts"]["gcode"]["afterPrintDone"] == "M117 Finished {{ script.name }}"


def test_plugin_list_shows_the_installed_plugin(page):
    open_settings(page, "plugins")
    item = page.wait_for_selector("#plugin-list li:has-text('UI test plugin')")
    assert "0.9" in item.inner_text() and "Loaded from the plugins folder" in item.inner_text()


def test_history_lists_the_cancelled_print(page, cancelled_print):
    open_tab(page, "history")
    row = page.wait_for_selector("#history-rows tr:has-text('calibration_cube.gcode')")
    assert "Cancelled" in row.inner_text()
    assert page.inner_text("#history-summary") == "1 print: 0 done, 1 cancelled, 0 failed"


def test_slicer_thumbnail_loads_in_the_file_list(page, tmp_path):
    path = tmp_path / "with_preview.gcode"
    path.write_text(gcode_with_thumbnail())
    page.set_input_files("#gcode_upload", str(path))
    page.wait_for_selector('#file-list li[data-path="with_preview.gcode"]')
    page.click('#file-list li[data-path="with_preview.gcode"] .file-name')
    image = '#file-list li[data-path="with_preview.gcode"] img.thumbnail'
    page.wait_for_selector(image)
    page.wait_for_function(f"() => document.querySelector('{image}').complete"
                           f" && document.querySelector('{image}').naturalWidth === 24")
    assert "/downloads/thumbs/local/with_preview.gcode?" in page.get_attribute(image, "src")
    screenshot(page, "files-desktop", "#files-panel")


def test_drop_upload_new_folder_move_and_delete(page, uploaded, operational):
    page.evaluate("""() => {
        const data = new DataTransfer();
        data.items.add(new File(["G90\\nG1 X10 Y10\\n"], "dropped.gcode", {type: "text/plain"}));
        const panel = document.querySelector("#files-panel");
        for (const type of ["dragenter", "dragover", "drop"]) {
            panel.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
        }
    }""")
    page.wait_for_selector('#file-list li[data-path="dropped.gcode"]')

    page.click("#files-newfolder")
    page.fill("#prompt-input", "parts")
    page.click("#prompt-ok")
    page.wait_for_selector("#file-list li.folder:has-text('parts')")

    page.click('#file-list li[data-path="dropped.gcode"] .file-name')
    page.click('#file-list li[data-path="dropped.gcode"] button:has-text("Move")')
    page.wait_for_selector("#choose-dialog", state="visible")  # a folder picker, nothing to mistype
    assert page.eval_on_selector_all("#choose-select option", "os => os.map(o => o.value)") == ["", "parts"]
    page.select_option("#choose-select", "parts")
    page.click("#choose-ok")
    page.wait_for_selector('#file-list li[data-path="dropped.gcode"]', state="detached")
    page.click("#file-list li.folder .file-name:has-text('parts')")
    page.wait_for_selector('#file-list li[data-path="parts/dropped.gcode"]')
    assert "parts" in page.inner_text("#files-breadcrumbs")

    page.click('#file-list li[data-path="parts/dropped.gcode"] .file-name')
    page.click('#file-list li[data-path="parts/dropped.gcode"] button:has-text("Delete")')
    page.click("#confirm-ok")
    page.wait_for_selector('#file-list li[data-path="parts/dropped.gcode"]', state="detached")
    page.click("#files-breadcrumbs button >> nth=0")
    page.wait_for_selector('#file-list li[data-path="calibration_cube.gcode"]')

    page.click('#files-origin button[data-origin="sdcard"]')
    page.wait_for_function("() => document.querySelector('#files-breadcrumbs').textContent.startsWith('SD card')")
    page.wait_for_selector('#file-list li[data-path="calibration_cube.gcode"]', state="detached")
    page.click('#files-origin button[data-origin="local"]')
    page.wait_for_selector('#file-list li[data-path="calibration_cube.gcode"]')


def test_admin_adds_and_removes_a_user(page):
    open_settings(page, "users")
    page.wait_for_selector('#user-rows tr[data-user="admin"]')
    page.fill("#user-add-name", "operator")
    page.fill("#user-add-pass", "operator password")
    page.click("#user-add-form button[type=submit]")
    row = page.wait_for_selector('#user-rows tr[data-user="operator"]')
    assert "users" in row.inner_text()
    page.click('#user-rows tr[data-user="operator"] button:has-text("Delete")')
    page.click("#confirm-ok")
    page.wait_for_selector('#user-rows tr[data-user="operator"]', state="detached")


def test_a_read_only_user_sees_state_and_files_but_no_controls(page, browser, octohost, uploaded, operational):
    admin = admin_session(octohost)
    created = admin.post(octohost.url + "api/users", timeout=10,
                         json={"name": "viewer", "password": "viewer password", "groups": ["readonly"]})
    assert created.ok, created.text
    context = browser.new_context(viewport=DESKTOP)
    viewer = context.new_page()
    viewer.set_default_timeout(WAIT)
    watch = ConsoleWatch(viewer)
    try:
        viewer.goto(octohost.url)
        viewer.fill("#login-user", "viewer")
        viewer.fill("#login-pass", "viewer password")
        viewer.click("#login-form button[type=submit]")
        viewer.wait_for_selector('#file-list li[data-path="calibration_cube.gcode"]')
        viewer.wait_for_function("() => document.querySelector('#header-state').textContent === 'Operational'")
        for hidden in ("#connection-panel", "#upload-label", "#files-newfolder", "#job-panel .buttons",
                       "#terminal-form"):
            assert viewer.is_hidden(hidden), hidden
        viewer.click('#file-list li[data-path="calibration_cube.gcode"] .file-name')
        actions = viewer.locator('#file-list li[data-path="calibration_cube.gcode"] .file-details .buttons > *')
        assert set(actions.all_inner_texts()) <= {"Download"}
        viewer.click("#tab-settings")
        sections = viewer.locator(".settings-nav button:visible")
        assert sections.all_inner_texts() == ["Account"]
        viewer.wait_for_selector("#settings-apikeys", state="visible")
        with viewer.expect_response("**/api/users/viewer/apikey") as generated:
            viewer.click("#my-apikey-generate")
        key = generated.value.json()["apikey"]
        viewer.wait_for_function(f"() => document.querySelector('#my-apikey').value === '{key}'")
        assert requests.get(octohost.url + "api/files", headers={"X-Api-Key": key}, timeout=10).status_code == 200
        assert requests.post(octohost.url + "api/job", json={"command": "start"}, headers={"X-Api-Key": key},
                             timeout=10).status_code == 403
        viewer.wait_for_load_state("networkidle")  # errors of requests still under way would come late
        assert watch.problems == [], "\n".join(watch.problems)
    finally:
        context.close()

def test_an_application_key_request_is_approved_in_the_ui(page, octohost):
    answer = requests.post(octohost.url + "plugin/appkeys/request", json={"app": "Home Assistant", "user": ADMIN},
                           timeout=10)
    assert answer.status_code == 201
    poll_url = answer.headers["Location"]
    assert requests.get(poll_url, timeout=10).status_code == 202
    page.wait_for_selector("#appkey-dialog", state="visible")
    assert "Home Assistant" in page.inner_text("#appkey-message")
    with page.expect_response("**/plugin/appkeys/decision/**") as decided:  # the dialog closes before it is sent
        page.click("#appkey-allow")
    assert decided.value.ok
    page.wait_for_selector("#appkey-dialog", state="hidden")
    granted = requests.get(poll_url, timeout=10)
    assert granted.status_code == 200
    key = granted.json()["api_key"]
    assert requests.get(octohost.url + "api/files", headers={"X-Api-Key": key}, timeout=10).status_code == 200
    open_settings(page, "apikeys")
    page.wait_for_selector("#appkey-rows tr:has-text('Home Assistant')")

VIEWS = ("temperature", "control", "terminal", "history", "settings")


@pytest.mark.parametrize("size_name,viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_of_every_view(page, size_name, viewport):
    page.set_viewport_size(viewport)
    for view in VIEWS:
        open_tab(page, view)
        page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running'"
                               " || a.effect.getComputedTiming().iterations === Infinity)")  # transitions done
        screenshot(page, f"{view}-{size_name}", ".tabs" if size_name == "phone" else None)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{view} is wider than the {size_name} screen by {overflow}px"
    page.set_viewport_size(DESKTOP)
    open_tab(page, "temperature")


def test_keyboard_reaches_the_tabs(page):
    page.focus("#tab-temperature")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("() => document.activeElement.id") == "tab-control"
    assert page.is_visible("#view-control")
    page.keyboard.press("ArrowLeft")
    assert page.is_visible("#view-temperature")


def test_reconnects_after_a_restart_mid_print_and_offers_to_resume(page, session, octohost, admin, uploaded,
                                                                   operational):
    watch = session[1]
    start_print(page, admin, octohost)
    page.wait_for_function("() => parseFloat(document.querySelector('#job-progress-text').textContent) > 1")
    watch.allowed = [re.compile(p) for p in OFFLINE_NOISE]
    octohost.stop()
    page.wait_for_selector("#offline-banner", state="visible")
    assert "Lost the connection" in page.inner_text("#offline-banner")
    assert header_state(page) == "Server unreachable"
    # the last pushed state is stale: the job panel says so and offers nothing to click
    page.wait_for_function("() => document.querySelector('#job-state').textContent === 'Server unreachable'")
    for button in ("#job-print", "#job-pause", "#job-cancel", ".jog-x-plus"):
        assert page.is_disabled(button), button
    assert page.inner_text('#heater-rows tr[data-heater="tool0"] .actual') == "-"
    screenshot(page, "offline-desktop")
    octohost.restart()
    page.wait_for_selector("#offline-banner", state="hidden", timeout=WAIT)
    watch.allowed = []

    page.wait_for_selector("#recovery-banner", state="visible")
    assert page.is_visible("#app") and page.is_hidden("#login-form"), "the login should survive the restart"
    text = page.inner_text("#recovery-text")
    assert re.search(r"The last print of calibration_cube\.gcode stopped at \d+%", text), text
    page.wait_for_function("() => document.querySelector('#header-state').textContent === 'Operational'")
    screenshot(page, "recovery-desktop")
    page.click("#recovery-resume")
    page.click("#confirm-ok")  # resuming asks first
    page.wait_for_function("() => document.querySelector('#header-state').textContent.startsWith('Printing')")
    assert page.is_hidden("#recovery-banner")
    assert progress(page) > 1
    page.click("#job-cancel")
    page.click("#confirm-ok")
    page.wait_for_function("() => document.querySelector('#header-state').textContent === 'Operational'")
    assert page.is_hidden("#recovery-banner")
    assert watch.problems == [], "\n".join(watch.problems)
