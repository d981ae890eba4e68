"""The machine panel in headless Chromium: status with its colour, the errors, Restart, and the
reconnection after the virtual printer's cable is pulled (``!!DEBUG:unplug``)."""

import pytest
import requests
from browser_harness import logged_in_page

from support import wait_until

pytestmark = pytest.mark.e2e

ADMIN, PASSWORD = "admin", "machine panel pw"
WAIT = 30_000


@pytest.fixture(scope="module")
def admin(octohost):
    answer = requests.post(octohost.url + "api/setup/admin", json={"user": ADMIN, "pass": PASSWORD}, timeout=10)
    assert answer.status_code in (201, 409), answer.text
    session = requests.Session()
    login = session.post(octohost.url + "api/login", json={"user": ADMIN, "pass": PASSWORD}, timeout=10)
    assert login.status_code == 200, login.text
    session.headers["X-CSRF-Token"] = next(c.value for c in session.cookies if c.name.startswith("csrf_token"))
    return session


@pytest.fixture(scope="module")
def page(octohost, browser, admin):
    with logged_in_page(browser, octohost.url, ADMIN, PASSWORD, timeout=WAIT) as page:
        yield page


def machine(admin, octohost):
    return admin.get(octohost.url + "api/machine", timeout=10).json()


def badge(page, label, css):
    page.wait_for_function(
        "([label, css]) => { const b = document.querySelector('#machine-status-badge');"
        " return b.textContent === label && b.classList.contains(css); }", arg=[label, css])


def test_machine_panel_shows_status_errors_and_restarts(page, admin, octohost):
    connect = admin.post(octohost.url + "api/connection", json={"command": "connect", "port": "VIRTUAL"}, timeout=10)
    assert connect.status_code == 204, connect.text
    badge(page, "Ready", "state-ready")
    assert page.text_content("#machine-driver") == "Virtual printer (virtual)"
    assert not page.is_visible("#machine-errors-box")

    sent = admin.post(octohost.url + "api/printer/command", json={"command": "!!DEBUG:action out_of_filament T0"},
                      timeout=10)
    assert sent.status_code == 204, sent.text
    badge(page, "Filament runout", "state-paused")
    assert page.text_content("#machine-status-code") == "303"
    page.wait_for_selector("#machine-errors-box:visible")
    assert "out_of_filament" in page.text_content("#machine-errors")

    page.click("#machine-restart")
    badge(page, "Ready", "state-ready")
    page.wait_for_selector("#machine-errors-box", state="hidden")
    assert machine(admin, octohost)["errors"] == []


def test_machine_panel_follows_an_unplug_and_the_reconnection(page, admin, octohost):
    wait_until(lambda: machine(admin, octohost)["status"]["code"] == 100, timeout=30)
    badge(page, "Ready", "state-ready")
    sent = admin.post(octohost.url + "api/printer/command", json={"command": "!!DEBUG:unplug"}, timeout=10)
    assert sent.status_code == 204, sent.text
    # a driver problem (4xx: connection lost, or port missing when the link is looked at first)
    problem = wait_until(lambda: next((e for e in machine(admin, octohost)["errors"] if 400 <= e["code"] < 500),
                                      None), timeout=30,
                         message=lambda: f"a driver problem in /api/machine: {machine(admin, octohost)}")
    badge(page, "Ready", "state-ready")  # back by itself
    page.wait_for_selector("#machine-errors-box:visible")
    # the panel lists that problem, whichever it was (the text once said "Lost the connection" only)
    page.wait_for_function("text => document.querySelector('#machine-errors').textContent.includes(text)",
                           arg=f"{problem['code']} · {problem['message']}")
