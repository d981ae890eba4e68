"""Settings → MQTT in a real browser: the bridge's connection state and saving its settings."""

import pytest
import requests
from browser_harness import ADMIN, PASSWORD, ServerProcess, admin_session, logged_in_page

from support import wait_until
from support.mosquitto import Mosquitto, Subscriber

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    instance = Mosquitto(tmp_path_factory.mktemp("ui-broker")).start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, broker):
    config = {"mqtt": {"enabled": True, "printerId": "ui", "broker": {"host": "127.0.0.1", "port": broker.port,
                                                                       "username": "someone", "password": "pw"}}}
    instance = ServerProcess(tmp_path_factory.mktemp("octohost-ui-mqtt"), config).start()
    answer = requests.post(instance.url + "api/setup/admin", json={"user": ADMIN, "pass": PASSWORD}, timeout=10)
    assert answer.status_code == 201, answer.text
    yield instance
    instance.stop()


def test_mqtt_section_shows_the_connection_and_saves(browser, server, broker):
    subscriber = Subscriber(broker.port, "octohost/+/status")
    try:
        with logged_in_page(browser, server.url, ADMIN, PASSWORD) as page:
            page.click("#tab-settings")
            page.click('.settings-nav button[data-section="mqtt"]')
            page.wait_for_selector("#settings-mqtt", state="visible")
            page.wait_for_function("() => document.querySelector('#mqtt-state').textContent.startsWith('Connected')")
            assert f"127.0.0.1:{broker.port}" in page.inner_text("#mqtt-state")
            assert page.inner_text("#mqtt-topic") == "octohost/ui/"
            assert page.input_value("#mqtt-password") == ""
            assert page.get_attribute("#mqtt-password", "placeholder") == "unchanged"
            assert page.input_value("#mqtt-printer-id") == "ui"
            page.fill("#mqtt-printer-id", "renamed")
            page.fill("#mqtt-interval", "0.5")
            page.click("#settings-mqtt button[type=submit]")
            page.wait_for_function("() => document.querySelector('#toast').textContent === 'MQTT settings saved'")
            wait_until(lambda: [s for s in subscriber.on("octohost/renamed/status") if s["online"]],
                       message="online under the new printer id")
            page.wait_for_function("() => document.querySelector('#mqtt-topic').textContent === 'octohost/renamed/'")
            admin = admin_session(server)
            settings = admin.get(server.url + "api/mqtt", timeout=10).json()["settings"]
            assert settings["printerId"] == "renamed" and settings["telemetryInterval"] == 0.5
            assert settings["broker"]["passwordSet"] is True and settings["broker"]["username"] == "someone"
            assert settings["clientId"] is None  # an empty optional field is saved as "not set"
    finally:
        subscriber.close()
