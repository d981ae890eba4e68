"""Settings → Backup in a real browser: create, restore (the daemon restarts), and the diagnostics link."""

import socket

import pytest
import requests
from browser_harness import ADMIN, PASSWORD, ServerProcess, admin_session, watched_login

from support import wait_until

pytestmark = pytest.mark.e2e


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    instance = ServerProcess(tmp_path / "octohost-ui-backup").start(port=free_port())  # a restart keeps the port
    answer = requests.post(instance.url + "api/setup/admin", json={"user": ADMIN, "pass": PASSWORD}, timeout=10)
    assert answer.status_code == 201, answer.text
    yield instance
    instance.stop()


def test_backup_then_restore_from_the_page(browser, server):
    admin = admin_session(server)

    def set_name(name):
        assert admin.post(server.url + "api/settings", json={"appearance": {"name": name}}, timeout=10).ok

    def served_name():
        try:
            return admin.get(server.url + "api/settings", timeout=5).json()["appearance"]["name"]
        except (requests.RequestException, ValueError, KeyError):
            return None

    set_name("Before")
    with watched_login(browser, server.url, ADMIN, PASSWORD) as (page, watch):
        page.click("#tab-settings")
        page.click('.settings-nav button[data-section="system"]')
        assert page.get_attribute("#systeminfo-bundle", "href") == "/downloads/systeminfo.zip"
        page.click('.settings-nav button[data-section="backup"]')
        page.wait_for_selector("#backup-empty", state="visible")
        page.uncheck("#backup-create input[name=uploads]")
        page.click("#backup-create button[type=submit]")
        page.wait_for_selector("#backup-list tr", timeout=60_000)
        assert page.inner_text("#backup-list tr td.filename").startswith("octohost-backup-")

        set_name("After")
        page.click("#backup-list tr button.danger")  # Restore
        page.wait_for_selector("#confirm-dialog", state="visible")
        with watch.expecting("Failed to load resource", "net::ERR"):  # the server is away while it restarts
            with page.expect_navigation(timeout=60_000):  # the page reloads once the server is back
                page.click("#confirm-ok")
        wait_until(lambda: served_name() == "Before", timeout=30, message="the restored settings")
        page.wait_for_selector("#tab-settings")
