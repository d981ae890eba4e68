"""The bridge's settings (``mqtt.*``) as one immutable value, checked before anything connects.

A bad topic level or an unreadable certificate file is a :class:`ConfigError` with a message
naming the setting, so ``octohost mqtt check``, the API and the daemon's log all say the same.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from dataclasses import dataclass
from typing import Any

#: what may not appear in a topic level we build: MQTT wildcards, the separator, NUL
_BAD_LEVEL = re.compile(r"[+#/\x00]")
_SLUG = re.compile(r"[^a-z0-9_-]+")
MAX_LEVEL_BYTES = 128


class ConfigError(ValueError):
    """The ``mqtt.*`` settings cannot work; the message names the setting."""


def default_printer_id(hostname: str | None = None) -> str:
    """The host name as a topic level: lower case, only ``a-z0-9_-``; stable across restarts."""
    name = (hostname if hostname is not None else socket.gethostname()).split(".")[0].lower()
    return _SLUG.sub("-", name).strip("-") or "octohost"


def installation_tag(basedir: str) -> str:
    """Six hex digits that tell installations on one machine apart (from the base folder's path),
    so two daemons never share an MQTT client id: the broker would keep disconnecting one for the other."""
    return hashlib.sha256(os.path.realpath(basedir).encode("utf-8", "surrogateescape")).hexdigest()[:6]


def _check_level(key: str, value: str, multi: bool = False) -> str:
    parts = value.split("/") if multi else [value]
    if not value or len(value.encode("utf-8")) > MAX_LEVEL_BYTES or value.startswith("$"):
        raise ConfigError(f"{key} must be 1 to {MAX_LEVEL_BYTES} bytes and not start with '$', got {value!r}")
    for part in parts:
        if not part or _BAD_LEVEL.search(part):
            raise ConfigError(f"{key} may not contain '+', '#'{'' if multi else ', /'} or empty levels, got {value!r}")
    return value


def _check_file(key: str, path: str | None) -> str | None:
    if path is None:
        return None
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise ConfigError(f"{key}: cannot read the file {path!r}")
    return path


@dataclass(frozen=True)
class MqttConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool
    ca: str | None
    certfile: str | None
    keyfile: str | None
    client_id: str
    printer_id: str
    base_topic: str
    telemetry_interval: float
    commands: bool
    discovery: bool

    @property
    def broker(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_settings(cls, settings: Any) -> MqttConfig:
        """Read and check ``mqtt.*``; raises :class:`ConfigError`."""
        get = settings.get
        printer_id = _check_level("mqtt.printerId", get("mqtt.printerId") or default_printer_id())
        base_topic = _check_level("mqtt.baseTopic", get("mqtt.baseTopic"), multi=True)
        client_id = get("mqtt.clientId") or f"octohost-{printer_id}-{installation_tag(settings.basedir)}"
        if len(client_id.encode("utf-8")) > 65535:
            raise ConfigError("mqtt.clientId is too long")
        host = get("mqtt.broker.host")
        if not host:
            raise ConfigError("mqtt.broker.host is empty")
        tls = bool(get("mqtt.broker.tls.enabled"))
        certfile = get("mqtt.broker.tls.certfile")
        keyfile = get("mqtt.broker.tls.keyfile")
        if tls:
            if keyfile and not certfile:
                raise ConfigError("mqtt.broker.tls.keyfile is set without mqtt.broker.tls.certfile")
            _check_file("mqtt.broker.tls.ca", get("mqtt.broker.tls.ca"))
            _check_file("mqtt.broker.tls.certfile", certfile)
            _check_file("mqtt.broker.tls.keyfile", keyfile)
        if get("mqtt.broker.password") and not get("mqtt.broker.username"):
            raise ConfigError("mqtt.broker.password is set without mqtt.broker.username")
        return cls(host=host, port=get("mqtt.broker.port"), username=get("mqtt.broker.username"),
                   password=get("mqtt.broker.password"), tls=tls, ca=get("mqtt.broker.tls.ca"),
                   certfile=certfile, keyfile=keyfile, client_id=client_id, printer_id=printer_id,
                   base_topic=base_topic, telemetry_interval=float(get("mqtt.telemetryInterval")),
                   commands=bool(get("mqtt.commands")), discovery=bool(get("mqtt.homeassistant.discovery")))
