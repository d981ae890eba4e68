"""The paho-mqtt client as the bridge and ``octohost mqtt check`` configure it (credentials, TLS).

Imported only when MQTT is used: paho is not loaded into a daemon that has the bridge off.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

from paho.mqtt import client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .config import MqttConfig

KEEPALIVE = 30


def make_client(config: MqttConfig, client_id: str | None = None) -> mqtt.Client:
    """A client for the configured broker (not yet connected); raises ValueError for unusable TLS files."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or config.client_id,
                         protocol=mqtt.MQTTv311, clean_session=True)
    if config.username:
        client.username_pw_set(config.username, config.password)
    if config.tls:
        context = ssl.create_default_context(cafile=config.ca) if config.ca else ssl.create_default_context()
        if config.certfile:
            try:
                context.load_cert_chain(config.certfile, config.keyfile)
            except (OSError, ssl.SSLError) as exc:
                raise ValueError(f"mqtt.broker.tls: cannot load the client certificate: {exc}") from None
        client.tls_set_context(context)
    client.on_socket_open = _send_small_messages_at_once
    return client


def _send_small_messages_at_once(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """TCP_NODELAY on the broker connection (paho leaves Nagle's algorithm on).

    A command's ACCEPTED follows the PUBACK of the command itself; with Nagle's algorithm the
    kernel holds the second small write until the broker acknowledges the first, and the broker,
    with nothing to say, delays that acknowledgement by up to 40 ms: that was most of the
    answer's latency in ``benchmarks/farm.py``.
    """
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):  # not a TCP socket
        pass


def describe(reason: Any) -> str:
    """A paho reason code or error number as words."""
    if isinstance(reason, int):
        return mqtt.error_string(reason)
    return str(reason)
