"""The page on a 390x844 phone: state, job and tabs on the first screen, the connection folded once
connected, every tab reachable, a one-line header, tables as cards, touch targets of 44x44 px."""

import pytest
from browser_harness import DESKTOP, PHONE, open_settings, open_tab

pytestmark = pytest.mark.e2e

VIEWS = ("temperature", "control", "terminal", "history", "gcode", "settings")

#: visible controls smaller than 44x44 px in the header, the job panel and the shown view
SMALL_TARGETS = """(root) => {
    const selector = 'button, [role=tab], a.button, select, input:not([type=hidden]), label.button, label.check';
    const out = [];
    for (const el of document.querySelectorAll(selector)) {
        if (!(root.contains(el) || el.closest('.topbar') || el.closest('#job-panel'))) continue;
        const box = el.getBoundingClientRect();
        if (!box.width || !box.height || el.closest('[hidden]')) continue;
        if (['checkbox', 'radio'].includes(el.type) && el.closest('label')) continue;  // the label is the target
        if (el.classList.contains('visually-hidden')) continue;
        if (box.width < 43.5 || box.height < 43.5) {
            const text = (el.textContent || el.value || '').trim().slice(0, 20);
            const size = `${Math.round(box.width)}x${Math.round(box.height)}`;
            out.push(`${el.tagName.toLowerCase()}#${el.id || ''}.${el.className} "${text}" ${size}`);
        }
    }
    return out;
}"""


@pytest.fixture
def phone(page):
    page.set_viewport_size(PHONE)
    yield page
    page.set_viewport_size(DESKTOP)


def top(page, selector):
    return page.eval_on_selector(selector, "e => e.getBoundingClientRect().top + window.scrollY")


def test_state_job_and_tabs_come_first_and_the_connection_folds(phone, operational):
    page = phone
    page.evaluate("() => window.scrollTo(0, 0)")
    assert page.is_visible("#header-state")
    assert top(page, "#job-panel") < top(page, "#tab-temperature") < top(page, "#connection-panel")
    assert top(page, "#tab-temperature") < PHONE["height"], "the tabs start below the first screen"
    assert page.is_hidden("#connection-fields")  # folded: connected
    assert "Connected to VIRTUAL" in page.inner_text("#connection-summary")
    page.click("#connection-toggle")
    assert page.is_visible("#connection-port")
    page.click("#connection-toggle")
    assert page.is_hidden("#connection-port")


def test_every_tab_fits_and_the_header_is_one_line(phone):
    page = phone
    width = PHONE["width"]
    for tab in page.query_selector_all('[role="tab"]'):
        box = tab.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{tab.inner_text()} is off the screen: {box}"
    header = page.eval_on_selector(".topbar", "e => e.getBoundingClientRect().height")
    assert header <= 64, f"the header wraps: {header}px tall"
    open_tab(page, "settings")  # reachable with a tap, no sideways scrolling
    assert page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 1


def test_tables_are_cards_with_readable_names(phone, cancelled_print):
    page = phone
    open_tab(page, "history")
    row = page.wait_for_selector("#history-rows tr:has-text('calibration_cube.gcode')")
    name = row.query_selector("td.filename")
    assert name.bounding_box()["width"] > 200, "the file name is squeezed"
    assert name.get_attribute("data-label") == "File"
    note = row.query_selector("td:last-child").bounding_box()
    assert note["x"] + note["width"] <= PHONE["width"]
    open_settings(page, "temperatures")
    remove = page.query_selector("#preset-rows tr >> nth=0 >> button[aria-label='Remove preset']")
    box = remove.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"], "the presets' remove buttons are cut"


def test_every_control_is_a_44_pixel_target(phone, operational):
    page = phone
    small = []
    for view in VIEWS:
        open_tab(page, view)
        small += [f"{view}: {s}" for s in page.evaluate(SMALL_TARGETS, page.query_selector(f"#view-{view}"))]
    assert small == [], "\n".join(small)
