"""axe-core on every view, on the desktop and the phone, light and dark: no critical or serious
violation; the page has a ``main`` landmark and an ``h1``.

axe.min.js comes from the ``axe-playwright-python`` package (test extra); the test injects it and
runs ``axe.run`` itself to read each violation's impact.
"""

import importlib.resources

import pytest
from browser_harness import DESKTOP, PHONE, open_tab

pytestmark = pytest.mark.e2e

VIEWS = ("temperature", "control", "terminal", "history", "gcode", "settings")


@pytest.fixture(scope="module")
def axe_source():
    axe = pytest.importorskip("axe_playwright_python")
    return importlib.resources.files(axe).joinpath("axe.min.js").read_text(encoding="utf-8")


def serious_violations(page, axe_source, where):
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    out = []
    for violation in results["violations"]:
        if violation["impact"] in ("critical", "serious"):
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:4]]
            out.append(f"{where}: {violation['impact']} {violation['id']} ({violation['help']}): {targets}")
    return out


@pytest.fixture(params=["light", "dark"])
def theme(request, page):
    page.emulate_media(color_scheme=request.param)
    yield request.param
    page.emulate_media(color_scheme="light")


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_no_serious_violations_on_any_view(page, axe_source, size, theme, cancelled_print, operational):
    page.set_viewport_size(size)
    try:
        assert page.locator("main:visible, [role=main]:visible").count() == 1
        assert page.locator("h1:visible").count() == 1
        problems = []
        for view in VIEWS:
            open_tab(page, view)
            if view == "settings":  # every section, also those other parts of octohost add
                sections = page.eval_on_selector_all(".settings-nav button:not([hidden])",
                                                     "buttons => buttons.map(b => b.dataset.section)")
                for section in sections:
                    page.click(f'.settings-nav button[data-section="{section}"]')
                    problems += serious_violations(page, axe_source, f"settings/{section}")
            else:
                problems += serious_violations(page, axe_source, view)
        open_tab(page, "temperature")
        assert problems == [], "\n".join(problems)
    finally:
        page.set_viewport_size(DESKTOP)


def test_no_serious_violations_on_the_login_screen(page, axe_source, theme, session):
    page.click("#logout-button")
    page.wait_for_selector("#login-form", state="visible")
    assert page.locator("main").count() == 1 and page.locator("h1:visible").count() == 1
    assert serious_violations(page, axe_source, "login") == []
