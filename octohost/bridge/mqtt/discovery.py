"""Home Assistant MQTT discovery: retained configs under ``homeassistant/`` that make the printer's
state, temperatures and progress (and, when commands are on, pause/resume/cancel buttons) appear
in Home Assistant with no YAML. Every entity reads the ``telemetry`` topic and is available while
the ``status`` topic says ``online``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from octohost import __version__

from .config import MqttConfig
from .topics import DISCOVERY_PREFIX, Topics

_NODE = re.compile(r"[^a-zA-Z0-9_-]+")

#: key -> (component, name, extra config)
_SENSORS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "state": ("sensor", "State", {"value_template": "{{ value_json.status.text }}", "icon": "mdi:printer-3d"}),
    "tool0": ("sensor", "Nozzle temperature", {
        "value_template": "{{ value_json.temperatures.tool0.actual if value_json.temperatures.tool0 is defined "
                          "else none }}",
        "device_class": "temperature", "unit_of_measurement": "°C", "state_class": "measurement"}),
    "bed": ("sensor", "Bed temperature", {
        "value_template": "{{ value_json.temperatures.bed.actual if value_json.temperatures.bed is defined "
                          "else none }}",
        "device_class": "temperature", "unit_of_measurement": "°C", "state_class": "measurement"}),
    "progress": ("sensor", "Progress", {
        "value_template": "{{ value_json.job.completion | float(0) | round(1) }}", "unit_of_measurement": "%",
        "icon": "mdi:progress-clock"}),
    "time_left": ("sensor", "Print time left", {
        "value_template": "{{ value_json.job.printTimeLeft if value_json.job.printTimeLeft is not none else none }}",
        "device_class": "duration", "unit_of_measurement": "s"}),
    "printing": ("binary_sensor", "Printing", {
        "value_template": "{{ 'ON' if value_json.state == 'PRINTING' else 'OFF' }}", "device_class": "running"}),
}
_BUTTONS = {"pause": ("Pause print", "PAUSE_PRINT", "mdi:pause"),
            "resume": ("Resume print", "RESUME_PRINT", "mdi:play"),
            "cancel": ("Cancel print", "STOP_PRINT", "mdi:stop")}


def node_id(config: MqttConfig) -> str:
    return "octohost_" + _NODE.sub("_", config.printer_id)


def discovery_configs(config: MqttConfig, topics: Topics, name: str | None = None) -> dict[str, dict[str, Any]]:
    """{topic: config} for every entity; buttons only when ``mqtt.commands`` is on."""
    node = node_id(config)
    device = {"identifiers": [node], "name": name or f"octohost {config.printer_id}", "manufacturer": "octohost",
              "model": "3D printer host", "sw_version": __version__}
    availability = {"availability_topic": topics.status,
                    "availability_template": "{{ 'online' if value_json.online else 'offline' }}"}
    out = {}
    for key, (component, title, extra) in _SENSORS.items():
        out[f"{DISCOVERY_PREFIX}/{component}/{node}/{key}/config"] = dict(
            {"name": title, "unique_id": f"{node}_{key}", "object_id": f"{node}_{key}", "state_topic": topics.telemetry,
             "device": device}, **availability, **extra)
    if config.commands:
        for key, (title, command, icon) in _BUTTONS.items():
            # each press needs an id of its own, or the bridge would take it for a repeated command
            template = json.dumps({"id": "ha-" + key + "-{{ now().timestamp() }}", "command": command, "args": {}})
            out[f"{DISCOVERY_PREFIX}/button/{node}/{key}/config"] = dict(
                {"name": title, "unique_id": f"{node}_{key}", "object_id": f"{node}_{key}",
                 "command_topic": topics.command, "command_template": template, "icon": icon, "device": device},
                **availability)
    return out


def stale_configs(config: MqttConfig) -> list[str]:
    """Config topics to clear (empty retained message): the buttons while commands are off, and
    every entity once discovery is switched off, so Home Assistant drops what it no longer gets."""
    node = node_id(config)
    sensors = [f"{DISCOVERY_PREFIX}/{component}/{node}/{key}/config" for key, (component, _, _) in _SENSORS.items()]
    buttons = [f"{DISCOVERY_PREFIX}/button/{node}/{key}/config" for key in _BUTTONS]
    if not config.discovery:
        return sensors + buttons
    return [] if config.commands else buttons
