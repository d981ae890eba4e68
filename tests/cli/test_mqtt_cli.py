"""``octohost mqtt check`` as a user runs it (a real process) against a real mosquitto."""

import subprocess
import sys

import pytest
import yaml

from octohost.settings import Settings

from support.mosquitto import Mosquitto, free_port

pytestmark = pytest.mark.e2e


def run(basedir, *config):
    settings = Settings(str(basedir))
    settings.update([(tuple(key.split(".")), yaml.safe_load(value)) for key, value in config])
    return subprocess.run([sys.executable, "-m", "octohost", "--basedir", str(basedir), "mqtt", "check",
                           "--timeout", "5"], capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    instance = Mosquitto(tmp_path_factory.mktemp("cli-broker"), users={"octo": "pw"}).start()
    yield instance
    instance.stop()


def test_check_succeeds(tmp_path, broker):
    result = run(tmp_path, ("mqtt.broker.port", str(broker.port)), ("mqtt.broker.host", "127.0.0.1"),
                 ("mqtt.broker.username", "octo"), ("mqtt.broker.password", "pw"), ("mqtt.printerId", "cli"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"OK: connected to 127.0.0.1:{broker.port} as octo; topics under octohost/cli/")
    assert "mqtt.enabled is false" in result.stdout


@pytest.mark.parametrize("overrides,message", [
    ({"mqtt.broker.password": "wrong"}, "refused the connection: Not authorized"),
    ({"mqtt.broker.username": None, "mqtt.broker.password": None}, "refused the connection: Not authorized"),
    ({"mqtt.printerId": "a/b"}, "mqtt.printerId may not contain"),
    ({"mqtt.broker.tls.enabled": "true", "mqtt.broker.tls.ca": "/nonexistent.pem"}, "cannot read the file"),
    ({"mqtt.broker.tls.enabled": "true"}, "TLS with"),
])
def test_check_fails_clearly(tmp_path, broker, overrides, message):
    config = {"mqtt.broker.port": str(broker.port), "mqtt.broker.host": "127.0.0.1",
              "mqtt.broker.username": "octo", "mqtt.broker.password": "pw"}
    config.update(overrides)
    result = run(tmp_path, *[(k, v) for k, v in config.items() if v is not None])
    assert result.returncode == 2, result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ") and message in result.stderr, result.stderr


def test_check_unreachable(tmp_path):
    result = run(tmp_path, ("mqtt.broker.port", str(free_port())), ("mqtt.broker.host", "127.0.0.1"))
    assert result.returncode == 2 and "Error: cannot reach the broker at 127.0.0.1:" in result.stderr
