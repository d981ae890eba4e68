"""Fixtures of the UI tests: one server and one headless Chromium per module."""

import os

import pytest
from browser_harness import CHROMIUM, CHROMIUM_ARGS, ServerProcess


@pytest.fixture(scope="module")
def octohost(tmp_path_factory):
    basedir = tmp_path_factory.mktemp("octohost-ui")
    (basedir / "plugins").mkdir()
    (basedir / "plugins" / "ui_test_plugin.py").write_text(
        '__plugin_name__ = "UI test plugin"\n__plugin_version__ = "0.9"\n'
        '__plugin_description__ = "Loaded from the plugins folder to show in the list."\n')
    server = ServerProcess(basedir).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    if os.environ.get("CI") and not os.path.exists(CHROMIUM):
        pytest.fail("CI must run the browser tests: .ci/run installs Debian's chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
