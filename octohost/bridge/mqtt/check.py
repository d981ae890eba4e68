"""``octohost mqtt check``: connect once with the configured settings and say what happened."""

from __future__ import annotations

import ssl
import threading
from typing import Any

from .config import MqttConfig


def check_broker(config: MqttConfig, timeout: float = 10.0) -> tuple[bool, str]:
    """(True, what works) or (False, why not): TCP, TLS, credentials, and a subscribe to the command topic."""
    from .client import make_client
    from .topics import Topics

    try:
        client = make_client(config, client_id=config.client_id + "-check")
    except ValueError as exc:
        return False, str(exc)
    answer: dict[str, Any] = {}
    done = threading.Event()

    def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        answer["connect"] = reason
        if reason.is_failure:
            done.set()
        else:
            client.subscribe(Topics(config).command, qos=1)

    def on_subscribe(client: Any, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        answer["subscribe"] = reasons
        done.set()

    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    where = f"{config.broker}{' (TLS)' if config.tls else ''}"
    try:
        client.connect(config.host, config.port, keepalive=30)
    except ssl.SSLError as exc:
        return False, f"TLS with {where} failed: {exc.reason or exc}"
    except ConnectionResetError as exc:
        if config.tls:
            return False, (f"TLS with {where} failed: {exc.strerror or exc} (does the broker speak TLS on "
                           "that port?)")
        return False, f"cannot reach the broker at {where}: {exc.strerror or exc}"
    except OSError as exc:
        return False, f"cannot reach the broker at {where}: {exc.strerror or exc}"
    client.loop_start()
    try:
        if not done.wait(timeout):
            return False, f"no answer from the broker at {where} within {timeout:g} s"
    finally:
        client.disconnect()
        client.loop_stop()
    reason = answer["connect"]
    if reason.is_failure:
        return False, f"the broker at {where} refused the connection: {reason}"
    granted = answer.get("subscribe") or []
    if any(getattr(code, "is_failure", False) for code in granted):
        return False, f"connected to {where}, but subscribing to {Topics(config).command} was refused"
    user = f" as {config.username}" if config.username else " anonymously"
    return True, f"connected to {where}{user}; topics under {Topics(config).root}/"
