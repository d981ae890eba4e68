"""A private mosquitto, a real paho subscriber and octohost servers (virtual printer, real HTTP on
127.0.0.1) with the MQTT bridge on; each server is stopped after its test."""

import pytest
from mqtt_helpers import launch

from octohost.access.users import UserManager

from support.mosquitto import Mosquitto, Subscriber

PASSWORD = "secret-pw"


@pytest.fixture(scope="session")
def admin_users(tmp_path_factory):
    """users.yaml with one admin (hashed once per run) and the admin's API key."""
    path = tmp_path_factory.mktemp("mqtt-users") / "users.yaml"
    manager = UserManager(str(path))
    manager.add_user("admin", PASSWORD, admin=True)
    manager.add_user("viewer", PASSWORD, groups=["readonly"])
    return path, {"admin": manager.get_or_create_api_key("admin"),
                  "viewer": manager.get_or_create_api_key("viewer")}


@pytest.fixture
def broker(tmp_path):
    instance = Mosquitto(tmp_path / "broker").start()
    yield instance
    instance.stop()


@pytest.fixture
def subscribers():
    opened = []

    def open_subscriber(port, topics="#", **kwargs):
        subscriber = Subscriber(port, topics, **kwargs)
        opened.append(subscriber)
        return subscriber

    yield open_subscriber
    for subscriber in opened:
        subscriber.close()


@pytest.fixture
def start_daemon(tmp_path, admin_users):
    started = []

    def start(settings_values, connect_virtual=True):
        daemon = launch(tmp_path / f"daemon{len(started)}", admin_users, settings_values, connect_virtual)
        started.append(daemon.server)
        return daemon

    yield start
    for server in started:
        server.stop()
