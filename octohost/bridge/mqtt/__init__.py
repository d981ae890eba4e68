"""The MQTT bridge (issue 18): telemetry, events and commands of this printer on an MQTT broker.

Topics under ``<mqtt.baseTopic>/<mqtt.printerId>/``: ``status`` (retained; the last will says
offline), ``telemetry`` (QoS 0, every ``mqtt.telemetryInterval``), ``event`` (QoS 1, numbered),
``command`` (subscribed). One concept per module: :mod:`.config` (settings), :mod:`.topics`,
:mod:`.status` (what is reported), :mod:`.outbox` (event queue), :mod:`.commands`,
:mod:`.discovery` (Home Assistant), :mod:`.client` (paho set-up), :mod:`.bridge` (threads and
connection), :mod:`.check` (the CLI's test), :mod:`.service` (the server's one entry point).
Importing this package does not import paho-mqtt.
"""

from .service import MqttService

__all__ = ["MqttService"]
