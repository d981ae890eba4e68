"""Topic names under ``<baseTopic>/<printerId>/`` and the one JSON encoding of every payload."""

from __future__ import annotations

import json
from typing import Any

from .config import MqttConfig

#: Home Assistant's default discovery prefix
DISCOVERY_PREFIX = "homeassistant"


class Topics:
    """``status`` (retained, last will), ``telemetry`` (QoS 0), ``event`` (QoS 1), ``command`` (subscribed)."""

    def __init__(self, config: MqttConfig) -> None:
        self.root = f"{config.base_topic}/{config.printer_id}"
        self.status = f"{self.root}/status"
        self.telemetry = f"{self.root}/telemetry"
        self.event = f"{self.root}/event"
        self.command = f"{self.root}/command"


def encode(payload: dict[str, Any]) -> bytes:
    """Compact JSON; anything JSON cannot hold (a set, a path object) becomes its string."""
    return json.dumps(payload, separators=(",", ":"), default=str).encode("utf-8")
