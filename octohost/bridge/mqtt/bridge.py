"""The MQTT bridge: one broker connection that publishes status, telemetry and events and takes
commands, on threads of its own, so nothing it does can hold up the printer.

Threads: paho's network thread (connects, reconnects with backoff, reads commands and
acknowledgements; its callbacks only set flags and queue), the event pump (hands queued events
to the client in order, see :mod:`.outbox`), the telemetry thread (one snapshot every
``telemetryInterval`` while connected; never queued, only the newest matters) and the command
worker (:mod:`.commands`). Printer events arrive from the event bus's thread and firmware
``// action:`` lines from the ``comm.protocol.action`` hook; both only append to the outbox.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any

from paho.mqtt.enums import MQTTErrorCode

from octohost import __version__
from octohost.events import Events

from . import status as printer_status
from .client import KEEPALIVE, describe, make_client
from .commands import CommandProcessor, Services
from .config import MqttConfig
from .discovery import discovery_configs, stale_configs
from .outbox import EventOutbox
from .topics import Topics, encode

log = logging.getLogger(__name__)

#: bus event -> (event name on MQTT, source)
FORWARDED = {
    Events.PRINTER_STATE_CHANGED: ("STATE_CHANGED", "printer"),
    Events.CONNECTED: ("CONNECTED", "printer"),
    Events.DISCONNECTED: ("DISCONNECTED", "printer"),
    Events.PRINT_STARTED: ("PRINT_STARTED", "printer"),
    Events.PRINT_DONE: ("PRINT_DONE", "printer"),
    Events.PRINT_FAILED: ("PRINT_FAILED", "printer"),
    Events.PRINT_CANCELLED: ("PRINT_CANCELLED", "printer"),
    Events.PRINT_PAUSED: ("PRINT_PAUSED", "printer"),
    Events.PRINT_RESUMED: ("PRINT_RESUMED", "printer"),
    Events.FILE_ADDED: ("FILE_ADDED", "files"),
    Events.FILE_REMOVED: ("FILE_REMOVED", "files"),
    Events.FOLDER_ADDED: ("FOLDER_ADDED", "files"),
    Events.FOLDER_REMOVED: ("FOLDER_REMOVED", "files"),
    Events.ERROR: ("ATTENTION", "printer"),
}


class MqttBridge:
    def __init__(self, config: MqttConfig, printer: Any, event_bus: Any, file_manager: Any, profile_manager: Any,
                 name: str | None = None, capacity: int = 10000,
                 reconnect_delay: tuple[float, float] = (0.5, 5.0), machine: Any = None) -> None:
        self.config = config
        self.topics = Topics(config)
        self._printer = printer
        self._machine = machine
        self._event_bus = event_bus
        self._name = name
        self.outbox = EventOutbox(capacity)
        self.commands = CommandProcessor(Services(printer, file_manager, profile_manager, machine), self._answer,
                                         config.commands, wait_sent=self.outbox.wait_acknowledged)
        self._client = make_client(config)
        self._client.will_set(self.topics.status, encode({"online": False}), qos=1, retain=True)
        # Jitter: each bridge starts its backoff at its own multiple of the shortest delay, so the
        # daemons of a farm do not all knock on a restarted broker at the same instants.
        shortest, longest = reconnect_delay
        self.reconnect_delay = (shortest * random.uniform(1.0, 1.5), longest)
        self._client.reconnect_delay_set(*self.reconnect_delay)  # type: ignore[arg-type]  # paho takes floats
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.message_callback_add(self.topics.command, self._on_command)
        self._stopping = threading.Event()
        self._telemetry_now = threading.Event()
        self._lock = threading.Lock()
        self.state = "connecting"
        self.last_error: str | None = None
        self.connected_since: float | None = None
        self.connects = 0
        self.telemetry_sent = 0
        self._telemetry_seq = 0
        self._threads = [threading.Thread(target=self.outbox.pump, args=(self._send_event,),
                                          name="octohost.mqtt.events", daemon=True),
                         threading.Thread(target=self._telemetry_loop, name="octohost.mqtt.telemetry", daemon=True)]

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        self.commands.start()
        for thread in self._threads:
            thread.start()
        self._event_bus.subscribe("*", self._on_bus_event)
        self._client.connect_async(self.config.host, self.config.port, keepalive=KEEPALIVE)
        self._client.loop_start()
        log.info("MQTT bridge: connecting to %s as %s, topics under %s/", self.config.broker, self.config.client_id,
                 self.topics.root)

    def stop(self, timeout: float = 3.0) -> None:
        """Say offline (retained), deliver what is queued if the broker is there, disconnect."""
        self._stopping.set()
        self._telemetry_now.set()
        self._event_bus.unsubscribe("*", self._on_bus_event)
        self.commands.stop()
        if self.state == "connected":
            self.outbox.wait_drained(timeout)
            info = self._client.publish(self.topics.status, encode(self._status_payload(False)), qos=1, retain=True)
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                pass
        self._client.disconnect()
        self._client.loop_stop()
        self.outbox.close()
        for thread in self._threads:
            thread.join(timeout)
        self.state = "stopped"

    def status(self) -> dict[str, Any]:
        """The connection state for the API and the UI."""
        return {"enabled": True, "state": self.state, "broker": self.config.broker, "tls": self.config.tls,
                "clientId": self.config.client_id, "printerId": self.config.printer_id,
                "topic": self.topics.root, "commands": self.config.commands,
                "homeassistant": self.config.discovery, "lastError": self.last_error,
                "connectedSince": self.connected_since, "connects": self.connects,
                "events": {"lastSeq": self.outbox.last_seq, "queued": self.outbox.queued,
                           "delivered": self.outbox.delivered, "dropped": self.outbox.dropped},
                "telemetrySent": self.telemetry_sent, "commandsReceived": self.commands.received}

    # -- paho callbacks (its network thread: nothing slow) -------------------------------------

    def _status_payload(self, online: bool) -> dict[str, Any]:
        return {"online": online, "ts": round(time.time(), 3), "printer_id": self.config.printer_id,
                "version": __version__, "commands": self.config.commands, "state": self._printer.get_state_id()}

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.state = "refused"
            self._error(f"the broker refused the connection: {reason}")
            return
        # subscribed first: the broker handles a client's packets in order, so whoever sees "online"
        # can send a command that will arrive
        client.subscribe(self.topics.command, qos=1)
        client.publish(self.topics.status, encode(self._status_payload(True)), qos=1, retain=True)
        if self.config.discovery:
            for topic, config in discovery_configs(self.config, self.topics, self._name).items():
                client.publish(topic, encode(config), qos=1, retain=True)
        for topic in stale_configs(self.config):
            client.publish(topic, b"", qos=1, retain=True)
        self.state = "connected"
        self.last_error = None
        self.connected_since = time.time()
        self.connects += 1
        log.info("MQTT bridge: connected to %s", self.config.broker)
        self.outbox.set_connected(True)
        self._telemetry_now.set()

    def _error(self, message: str) -> None:
        """Remember why there is no connection; logged when it changes, not at every retry."""
        if message != self.last_error:
            log.warning("MQTT bridge: %s; retrying", message)
        self.last_error = message

    def _on_connect_fail(self, client: Any, userdata: Any) -> None:
        self.state = "disconnected"
        self._error(f"cannot reach the broker at {self.config.broker}{' (or TLS failed)' if self.config.tls else ''}")

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self.outbox.set_connected(False)
        self.connected_since = None
        if self._stopping.is_set() or self.state == "refused":  # a refusal ends in a disconnect too
            return
        self.state = "disconnected"
        self._error(f"connection lost: {describe(reason)}")

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        self.outbox.acknowledged(mid)

    def _on_command(self, client: Any, userdata: Any, message: Any) -> None:
        self.commands.submit(message.payload)

    # -- what gets published ---------------------------------------------------------------------

    def _send_event(self, payload: bytes) -> int | None:
        info = self._client.publish(self.topics.event, payload, qos=1)
        # not connected: paho keeps a QoS 1 message and sends it after reconnecting, so it is handed over
        if info.rc in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            return info.mid
        log.warning("MQTT bridge: publishing an event failed: %s", describe(info.rc))
        return None

    def _answer(self, event: str, command_id: Any, data: dict[str, Any]) -> int:
        return self.outbox.put(event, "mqtt", self._printer.get_state_id(), data, command_id=command_id)

    def _on_bus_event(self, event: str, payload: Any) -> None:
        """Forward the event, then let it settle waiting commands (so PRINT_CANCELLED precedes the
        FINISHED of the STOP_PRINT it ends)."""
        forwarded = FORWARDED.get(event)
        if forwarded is not None:
            name, source = forwarded
            data = dict(payload) if isinstance(payload, dict) else {}
            state = data.get("state_id") if event == Events.PRINTER_STATE_CHANGED else self._printer.get_state_id()
            self.outbox.put(name, source, state, data)
            if event == Events.PRINTER_STATE_CHANGED:
                self._telemetry_now.set()
        self.commands.on_event(event, payload)

    def on_action(self, line: str, name: str, params: str) -> None:
        """A firmware ``// action:`` line (from the serial thread: queue only)."""
        self.outbox.put("ATTENTION", "firmware", self._printer.get_state_id(),
                        {"action": name, "params": params, "line": line})

    def _telemetry_loop(self) -> None:
        interval = self.config.telemetry_interval
        next_at = time.monotonic()
        while not self._stopping.is_set():
            self._telemetry_now.wait(max(0.0, next_at - time.monotonic()))
            if self._stopping.is_set():
                return
            self._telemetry_now.clear()
            now = time.monotonic()
            # on time: keep the beat; woken early (connected, state changed) or far behind: restart it
            next_at = next_at + interval if next_at <= now < next_at + interval else now + interval
            if self.state != "connected":
                continue
            try:
                self._telemetry_seq += 1
                payload = encode(printer_status.telemetry(self._printer, self._telemetry_seq, self._machine))
            except Exception:
                log.exception("MQTT bridge: building telemetry failed")
                continue
            self._client.publish(self.topics.telemetry, payload, qos=0)
            self.telemetry_sent += 1
