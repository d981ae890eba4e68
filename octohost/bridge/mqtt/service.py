"""The bridge's place in the daemon: started with the server when ``mqtt.enabled``, restarted when
``mqtt.*`` settings change, stopped at shutdown. The only module the server imports; it loads
paho-mqtt (and the rest of the bridge) only when the bridge is switched on.
"""

from __future__ import annotations

import logging
import threading
from types import SimpleNamespace
from typing import Any

from .config import ConfigError, MqttConfig

log = logging.getLogger(__name__)

#: seconds to wait after a settings change before restarting, so one save of many keys restarts once
RESTART_DELAY = 0.3
#: identifier under which the bridge's ``comm.protocol.action`` handler is registered
HOOK_OWNER = "mqtt_bridge"


class MqttService:
    def __init__(self, context: Any, **bridge_options: Any) -> None:
        self._context = context
        self._options = bridge_options
        self._bridge: Any = None
        self._error: str | None = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._hook_registered = False
        self._stopped = False

    @property
    def bridge(self) -> Any:
        return self._bridge

    def start(self) -> None:
        self._context.settings.subscribe("mqtt", self._settings_changed)
        self._apply()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            if self._timer is not None:
                self._timer.cancel()
            bridge, self._bridge = self._bridge, None
        if bridge is not None:
            bridge.stop()

    def status(self) -> dict[str, Any]:
        """``{"enabled", "state", ...}``: the bridge's status, or why there is none."""
        bridge = self._bridge
        if bridge is not None:
            return bridge.status()
        enabled = bool(self._context.settings.get("mqtt.enabled"))
        return {"enabled": enabled, "state": "error" if enabled else "disabled", "lastError": self._error}

    def _settings_changed(self, key: str, value: Any) -> None:
        with self._lock:
            if self._stopped:
                return
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(RESTART_DELAY, self._apply)
            self._timer.daemon = True
            self._timer.start()

    def _apply(self) -> None:
        """Stop the running bridge (if any) and start one with the settings as they are now."""
        with self._lock:
            if self._stopped:
                return
            old, self._bridge = self._bridge, None
        if old is not None:
            old.stop()
        settings = self._context.settings
        self._error = None
        if not settings.get("mqtt.enabled"):
            return
        try:
            config = MqttConfig.from_settings(settings)
            from .bridge import MqttBridge

            c = self._context
            bridge = MqttBridge(config, c.printer, c.event_bus, c.file_manager, c.profile_manager,
                                name=settings.get("appearance.name") or None, machine=getattr(c, "machine", None),
                                **self._options)
        except (ConfigError, ValueError) as exc:
            self._error = str(exc)
            log.error("MQTT bridge not started: %s", exc)
            return
        with self._lock:
            if self._stopped:
                return
            self._bridge = bridge
        self._register_action_hook()
        bridge.start()

    def _register_action_hook(self) -> None:
        """Firmware ``// action:`` lines reach only the ``comm.protocol.action`` hook; registered
        once, it forwards to whichever bridge is running."""
        if self._hook_registered or self._context.plugin_manager is None:
            return
        self._hook_registered = True

        def on_action(comm_instance: Any, line: str, action: str, *args: Any, name: str | None = None,
                      params: str | None = None, **kwargs: Any) -> None:
            bridge = self._bridge
            if bridge is not None:
                bridge.on_action(line, name or action, params or "")

        self._context.plugin_manager.register_module(HOOK_OWNER, SimpleNamespace(
            __plugin_name__="MQTT bridge", __plugin_hooks__={"comm.protocol.action": on_action}))
