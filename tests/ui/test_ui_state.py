"""The page tells stale state from live: no old temperatures after a disconnect, a finished print
reads 100 % and done, a cancelled print is "Cancelled" everywhere, header and job panel agree."""

import pytest
from browser_harness import api_get, ensure_operational, open_tab

from support import wait_until

pytestmark = pytest.mark.e2e

TOOL0 = '#heater-rows tr[data-heater="tool0"]'


def test_heater_table_goes_blank_when_the_printer_disconnects(page, viewport, admin, octohost, operational):
    open_tab(page, "temperature")
    page.wait_for_function(f"() => document.querySelector('{TOOL0} .actual').textContent.endsWith('°C')")
    assert page.is_hidden("#heater-stale")
    answer = admin.post(octohost.url + "api/connection", json={"command": "disconnect"}, timeout=10)
    assert answer.status_code == 204, answer.text
    page.wait_for_function("() => document.querySelector('#header-state').textContent.startsWith('Offline')")
    page.wait_for_function(f"() => document.querySelector('{TOOL0} .actual').textContent === '-'")
    assert page.inner_text(f"{TOOL0} .target") == "-"
    assert page.is_visible("#heater-stale")
    assert page.is_disabled(".jog-x-plus")
    ensure_operational(page, admin, octohost)
    page.wait_for_function(f"() => document.querySelector('{TOOL0} .actual').textContent.endsWith('°C')")
    assert page.is_hidden("#heater-stale")


def test_header_and_job_panel_show_the_same_progress(page, viewport, printing):
    for _ in range(5):
        header, panel = page.evaluate(
            "() => [document.querySelector('#header-state').textContent,"
            " document.querySelector('#job-progress-text').textContent]")
        assert header.endswith(f" {panel}"), (header, panel)
        page.wait_for_function(f"() => document.querySelector('#job-progress-text').textContent !== '{panel}'")


def test_a_finished_print_reads_100_percent_and_done(page, viewport, admin, octohost, operational, tmp_path):
    # a name of its own per viewport: the run before printed a file too, and its "Done" line may
    # still show when this print has only just started
    name = f"short-{viewport['width']}.gcode"
    path = tmp_path / name
    path.write_text("G90\nM82\n" + "".join(f"G1 X{i} Y{i} E{i / 10}\nG4 P40\n" for i in range(40)))
    with open(path, "rb") as f:
        answer = admin.post(octohost.url + "api/files/local", files={"file": (name, f)},
                            data={"select": "true", "print": "true"}, timeout=30)
    assert answer.status_code == 201, answer.text
    # (an earlier print's outcome may show until the page hears of the new job)
    page.wait_for_function("(name) => !document.querySelector('#job-outcome').hidden"
                           " && document.querySelector('#job-outcome').textContent.startsWith(`Done: ${name}`)",
                           arg=name)
    assert page.inner_text("#job-outcome").startswith(f"Done: {name} printed in")
    assert page.inner_text("#job-progress-text") == "100.0%"
    assert page.get_attribute("#job-progressbar", "aria-valuenow") == "100"
    page.wait_for_function("() => document.querySelector('#header-state').textContent === 'Operational'")
    # the next print clears it
    started = admin.post(octohost.url + "api/job", json={"command": "start"}, timeout=10)
    assert started.status_code == 204, started.text
    page.wait_for_selector("#job-outcome", state="hidden")
    page.wait_for_selector("#job-outcome", state="visible")


def test_a_cancelled_print_is_cancelled_in_file_details_and_history(page, viewport, admin, octohost, uploaded,
                                                                     cancelled_print):
    jobs = api_get(page, "/api/history")["jobs"]
    last = next(j for j in jobs if j["path"] == "calibration_cube.gcode")
    if last["result"] != "cancelled":  # an earlier test of the module printed it since
        ensure_operational(page, admin, octohost)
        started = admin.post(octohost.url + "api/files/local/calibration_cube.gcode",
                             json={"command": "select", "print": True}, timeout=10)
        assert started.status_code == 204
        ensure_operational(page, admin, octohost)  # cancels it
        wait_until(lambda: api_get(page, "/api/history")["jobs"][0]["result"] == "cancelled")
    item = '#file-list li[data-path="calibration_cube.gcode"]'
    if page.get_attribute(f"{item} .file-name", "aria-expanded") != "true":
        page.click(f"{item} .file-name")
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{item} .file-details dd')]"
        ".some(d => d.textContent.startsWith('Cancelled'))")
    details = page.inner_text(f"{item} .file-details")
    assert "failed" not in details.lower()
    page.click(f"{item} .file-name")
    open_tab(page, "history")
    row = page.wait_for_selector("#history-rows tr:has-text('calibration_cube.gcode')")
    assert "Cancelled" in row.inner_text()
