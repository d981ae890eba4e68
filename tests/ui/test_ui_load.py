"""Hours of push messages: the page keeps bounded buffers and only the last 30 minutes of graph."""

import math
import time

import pytest
import requests
from browser_harness import DESKTOP, ConsoleWatch, FakePushSocket, page_load_figures, printing_payload

from support import wait_until

pytestmark = pytest.mark.e2e

ADMIN, PASSWORD = "admin", "load test password"
MESSAGES = 4200  # 35 minutes at two messages a second


@pytest.fixture(scope="module")
def page(octohost, browser):
    assert requests.post(octohost.url + "api/setup/admin", json={"user": ADMIN, "pass": PASSWORD}, timeout=10).ok
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(30_000)
    watch = ConsoleWatch(page)
    socket = FakePushSocket(page)
    page.goto(octohost.url)
    page.fill("#login-user", ADMIN)
    page.fill("#login-pass", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#app", state="visible")

    def authenticated():
        page.wait_for_timeout(20)  # Playwright hands the socket's messages over only while it runs
        return socket.authenticated

    wait_until(authenticated, timeout=10, interval=0, message="the page to authenticate on its push socket")
    yield page, socket
    context.close()
    assert watch.problems == [], "\n".join(watch.problems)


def test_terminal_and_graph_stay_bounded_over_a_long_print(page):
    page, socket = page
    start = time.time() - MESSAGES * 0.5
    socket.send("history", printing_payload(0, start))
    for index in range(1, MESSAGES):
        socket.send("current", printing_payload(index, start))
    page.click("#tab-terminal")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#terminal-output .line')]"
        f".some(l => l.textContent.includes('E{MESSAGES - 1}.3'))")
    page.click("#tab-temperature")
    page.wait_for_function(
        f"() => document.querySelector('#job-elapsed').textContent === '{_duration((MESSAGES - 1) // 2)}'")
    # the graph is redrawn on the next frame: wait for its last point rather than for a fixed time
    page.wait_for_function("() => Number(document.querySelector('#temp-graph').dataset.points) >= 2 * 3600")
    figures = page_load_figures(page)
    # the newest 2,000 raw lines are kept; the temperature reports among them are hidden
    assert 1600 <= figures["terminalLines"] <= 2000
    # 30 minutes of points at two a second, for two heaters (the 5 older minutes are gone)
    assert 2 * 3600 <= figures["graphPoints"] <= 2 * 3602
    assert page.inner_text("#header-state") == f"Printing {math.floor((MESSAGES - 1) / 100.0 % 100 * 10) / 10:.1f}%"


def test_hidden_lines_come_back_when_the_filter_is_cleared(page):
    page, socket = page
    page.click("#tab-terminal")
    visible = page.evaluate("() => document.querySelectorAll('#terminal-output .line').length")
    page.uncheck("#terminal-hide-temps")
    with_temperatures = page.evaluate("() => document.querySelectorAll('#terminal-output .line').length")
    assert with_temperatures == 2000 and visible <= 2000
    assert page.evaluate(
        "() => [...document.querySelectorAll('#terminal-output .line')]"
        ".some(l => l.textContent.startsWith('Recv: ok T:'))")
    page.check("#terminal-hide-temps")
    assert not page.evaluate(
        "() => [...document.querySelectorAll('#terminal-output .line')]"
        ".some(l => l.textContent.startsWith('Recv: ok T:'))")


def _duration(seconds):
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
