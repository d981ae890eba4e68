"""Sending commands to a daemon over MQTT and reading its answers (shared by the bridge tests)."""

import itertools
import shutil

import requests

from octohost.server.app import Server
from octohost.settings import Settings

from support import wait_until


class Daemon:
    def __init__(self, server, keys, root):
        self.server = server
        self.context = server.context
        self.url = server.url.rstrip("/")
        self.keys = keys
        self.root = root

    def topic(self, name):
        return f"{self.root}/{name}"

    def get(self, path, role="admin", **kwargs):
        return requests.get(self.url + path, headers={"X-Api-Key": self.keys[role]}, timeout=30, **kwargs)

    def post(self, path, role="admin", **kwargs):
        return requests.post(self.url + path, headers={"X-Api-Key": self.keys[role]}, timeout=30, **kwargs)

    def upload(self, name, text, folder=""):
        response = self.post("/api/files/local", files={"file": (name, text.encode())}, data={"path": folder})
        assert response.status_code == 201, response.text
        return response.json()

    @property
    def bridge(self):
        return self.context.mqtt.bridge


def mqtt_settings(port, printer_id="p1", **extra):
    values = {"mqtt.enabled": True, "mqtt.broker.host": "127.0.0.1", "mqtt.broker.port": port,
              "mqtt.printerId": printer_id, "mqtt.telemetryInterval": 0.2, "mqtt.commands": True}
    values.update(extra)
    return values


def launch(basedir, admin_users, settings_values, connect_virtual=True):
    """An octohost server on 127.0.0.1 (free port) with ``settings_values`` and the users of ``admin_users``."""
    settings = Settings(str(basedir))
    for key, value in settings_values.items():
        settings.set(key, value)
    template, keys = admin_users
    shutil.copy(template, basedir / "users.yaml")
    server = Server(settings, host="127.0.0.1", port=0, connect_virtual=connect_virtual)
    server.start_in_thread()
    return Daemon(server, keys, f"{settings.get('mqtt.baseTopic')}/{settings.get('mqtt.printerId')}")


FINAL = ("REJECTED", "FINISHED", "FAILED")
_ids = itertools.count(1)


def answers(subscriber, root, command_id):
    return [e for e in subscriber.on(f"{root}/event") if isinstance(e, dict) and e.get("command_id") == command_id]


def send(subscriber, root, command, args=None, command_id=None, timeout=30):
    """Publish a command and wait for its final answer; returns every answer to its id, in order."""
    command_id = command_id if command_id is not None else f"t{next(_ids)}"
    message = {"id": command_id, "command": command}
    if args is not None:
        message["args"] = args
    # the daemon says it is online once subscribed to its commands: sent earlier, a command is lost
    wait_until(lambda: any(isinstance(p, dict) and p.get("online") for p in subscriber.on(f"{root}/status")),
               message="the daemon online")
    subscriber.publish(f"{root}/command", message)
    return wait_until(lambda: (lambda got: got if got and got[-1]["event"] in FINAL else None)(
        answers(subscriber, root, command_id)), timeout=timeout, message=f"a final answer to {command} {command_id}")


def kinds(events):
    return [e["event"] for e in events]


def events_named(subscriber, root, name):
    return [e for e in subscriber.on(f"{root}/event") if isinstance(e, dict) and e.get("event") == name]


def gcode_file(lines):
    return "G28\n" + "".join(f"G1 X{i % 100} Y{(i * 7) % 100} F6000\n" for i in range(lines))
