"""History statistics: totals, success rate, filament; filters by result and name; reprint."""

import pytest
from browser_harness import api_get, ensure_operational, open_tab

from support import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def done_and_cancelled(page, admin, octohost, cancelled_print, tmp_path):
    """One cancelled print of calibration_cube.gcode and one finished print of tiny.gcode."""
    if not any(j["result"] == "done" for j in api_get(page, "/api/history")["jobs"]):
        ensure_operational(page, admin, octohost)
        path = tmp_path / "tiny.gcode"
        path.write_text("G90\nM82\n" + "".join(f"G1 X{i} Y{i} E{i / 10}\n" for i in range(30)))
        with open(path, "rb") as f:
            answer = admin.post(octohost.url + "api/files/local", files={"file": ("tiny.gcode", f)},
                                data={"select": "true", "print": "true"}, timeout=30)
        assert answer.status_code == 201, answer.text
        wait_until(lambda: any(j["result"] == "done" for j in api_get(page, "/api/history")["jobs"]))
    ensure_operational(page, admin, octohost)


def test_statistics_filters_and_reprint(page, viewport, admin, octohost, done_and_cancelled):
    open_tab(page, "history")
    page.click("#history-refresh")
    stats = api_get(page, "/api/history")["stats"]
    page.wait_for_function(f"() => document.querySelector('#history-stats').textContent.includes('{stats['count']}')")
    text = page.inner_text("#history-stats")
    ended = stats["done"] + stats["cancelled"] + stats["failed"]
    assert f"Success rate\n{round(100 * stats['done'] / ended)}%" in text
    assert "Filament used" in text and "Printing time" in text

    page.select_option("#history-filter-result", "cancelled")
    results = page.eval_on_selector_all("#history-rows td[data-label=Result]", "cells => cells.map(c => c.textContent)")
    assert results and set(results) == {"Cancelled"}
    page.select_option("#history-filter-result", "")
    page.fill("#history-filter-text", "tiny")
    names = page.eval_on_selector_all("#history-rows td.filename", "cells => cells.map(c => c.textContent)")
    assert names and set(names) == {"tiny.gcode"}
    assert "shown" in page.inner_text("#history-summary")
    page.fill("#history-filter-text", "")

    row = "#history-rows tr:has-text('calibration_cube.gcode') >> nth=0"
    with page.expect_response("**/api/files/local/calibration_cube.gcode") as started:
        page.click(f"{row} >> button:has-text('Reprint')")
    assert started.value.status == 204
    assert started.value.request.post_data_json == {"command": "select", "print": True}
    page.wait_for_function("() => document.querySelector('#header-state').textContent.startsWith('Printing')")
    page.wait_for_function("() => document.querySelector('#history-rows button').disabled")
    ensure_operational(page, admin, octohost)  # cancels it
