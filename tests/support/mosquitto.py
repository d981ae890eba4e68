"""A private mosquitto broker per test (a free port, a config file written here) and a real paho
subscriber that records what it receives; used by the MQTT bridge's tests and its benchmark."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any

from .wait import wait_until

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mosquitto:
    """``/usr/sbin/mosquitto -c CONF`` in the foreground; ``persistence`` keeps sessions (and the
    messages queued for them) across :meth:`restart`, as a broker in production would."""

    def __init__(self, folder: Path, users: dict[str, str] | None = None, tls: dict[str, str] | None = None,
                 persistence: bool = True, extra: list[str] | None = None) -> None:
        self.extra = extra or []  # more lines for mosquitto.conf
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.users = users
        self.tls = tls
        self.persistence = persistence
        self.process: subprocess.Popen[bytes] | None = None
        self.config = self.folder / "mosquitto.conf"
        self._write_config()

    def _write_config(self) -> None:
        lines = [f"listener {self.port} 127.0.0.1", f"persistence {'true' if self.persistence else 'false'}",
                 f"persistence_location {self.folder}/", "log_dest file " + str(self.folder / "mosquitto.log"),
                 "log_type error", "log_type warning", "log_type notice", "max_queued_messages 100000",
                 "autosave_interval 0",
                 # run as root, mosquitto would switch to its own user, which cannot read a test's files
                 f"user {pwd.getpwuid(os.geteuid()).pw_name}"]
        if self.users:
            passwords = self.folder / "passwords"
            passwords.write_text("")
            for user, password in self.users.items():
                subprocess.run(["mosquitto_passwd", "-b", str(passwords), user, password], check=True,
                               capture_output=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        if self.tls:
            lines += [f"cafile {self.tls['ca']}", f"certfile {self.tls['cert']}", f"keyfile {self.tls['key']}"]
        lines += self.extra
        self.config.write_text("\n".join(lines) + "\n")
        os.chmod(self.config, 0o644)

    def start(self) -> Mosquitto:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        wait_until(self._listening, timeout=10, message=lambda: f"mosquitto on port {self.port} ({self.log()})")
        return self

    def _listening(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"mosquitto exited: {self.process.stderr.read().decode() if self.process.stderr else ''}"
                               f" {self.log()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def log(self) -> str:
        path = self.folder / "mosquitto.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its sessions (persistence) and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class Subscriber:
    """A paho client that records every message per topic (JSON decoded where it can be).

    ``session``: a fixed client id with a persistent session (clean_session False, QoS 1), so the
    broker keeps QoS 1 messages for it while it is away, as a farm manager would subscribe.
    """

    def __init__(self, port: int, topics: str | list[str] = "#", session: str | None = None, tls: Any = None,
                 auth: tuple[str, str] | None = None) -> None:
        from paho.mqtt import client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: list[tuple[str, Any, bool]] = []
        self.lock = threading.Lock()
        self.topics = [topics] if isinstance(topics, str) else list(topics)
        self.connected = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=session or "",
                                  clean_session=session is None)
        if auth:
            self.client.username_pw_set(*auth)
        if tls is not None:
            self.client.tls_set_context(tls)
        self.client.reconnect_delay_set(0.05, 0.2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        wait_until(self.connected.is_set, timeout=10, message="subscriber connected")

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        for topic in self.topics:
            client.subscribe(topic, qos=1)
        self.connected.set()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        try:
            payload = json.loads(message.payload) if message.payload else None
        except (ValueError, RecursionError):  # the subscriber also hears the tests' malformed commands
            payload = message.payload
        with self.lock:
            self.messages.append((message.topic, payload, bool(message.retain)))

    def on(self, topic: str) -> list[Any]:
        with self.lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def publish(self, topic: str, payload: Any, qos: int = 1) -> None:
        data = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
        self.client.publish(topic, data, qos=qos).wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
