"""The ``serial.*`` settings the comm layer runs with, read once per connection."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


@dataclass
class CommConfig:
    window: str = "ping-pong"
    rx_buffer_size: int = 128
    hello_command: str = "M110 N0"
    firmware_errors: str = "cancel"
    resend_history: int = 256
    max_resends_per_line: int = 16
    long_running_commands: frozenset[str] = field(default_factory=lambda: frozenset(
        {"G4", "G28", "G29", "G30", "G32", "M190", "M109", "M116", "M400", "M226", "M600"}))
    never_send_checksum: bool = False
    checksum_requiring_commands: frozenset[str] = frozenset({"M110"})
    autoreport: bool = True
    timeout_connection: float = 10.0
    timeout_detection: float = 1.0
    timeout_communication: float = 30.0
    timeout_communication_busy: float = 3.0
    timeout_temperature: float = 5.0
    timeout_temperature_target_set: float = 2.0
    temperature_autoreport_interval: int = 2
    timeout_sd_status: float = 1.0
    timeout_resend_ok: float = 0.5
    resend_quiet: float = 0.1
    sd_status_autoreport_interval: int = 1
    max_timeouts_idle: int = 2
    max_timeouts_printing: int = 5
    max_timeouts_long: int = 5
    additional_baudrates: tuple[int, ...] = ()
    read_timeout: float = 0.25
    low_latency: bool = False
    pausing_commands: frozenset[str] = frozenset({"M0", "M1", "M25"})
    blocked_commands: frozenset[str] = frozenset({"M0", "M1"})
    ignored_commands: frozenset[str] = frozenset()
    emergency_commands: frozenset[str] = frozenset({"M112", "M108", "M410"})

    @property
    def receive_poll(self) -> float:
        """Read timeout of the port: how often the receive loop looks at the clock when all is quiet."""
        return max(0.005, min(self.read_timeout, self.timeout_communication / 2, self.timeout_communication_busy / 2))

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> CommConfig:
        if settings is None:
            return cls(**overrides)
        get = settings.get
        values = dict(
            window=get("serial.window"),
            rx_buffer_size=get("serial.rxBufferSize"),
            hello_command=get("serial.helloCommand"),
            firmware_errors=get("serial.firmwareErrors"),
            resend_history=get("serial.resendHistory"),
            max_resends_per_line=get("serial.maxResendsPerLine"),
            long_running_commands=frozenset(c.upper() for c in get("serial.longRunningCommands")),
            never_send_checksum=get("serial.neverSendChecksum"),
            checksum_requiring_commands=frozenset(c.upper() for c in get("serial.checksumRequiringCommands")),
            autoreport=get("serial.autoreport"),
            timeout_connection=get("serial.timeout.connection"),
            timeout_detection=get("serial.timeout.detection"),
            timeout_communication=get("serial.timeout.communication"),
            timeout_communication_busy=get("serial.timeout.communicationBusy"),
            timeout_temperature=get("serial.timeout.temperature"),
            timeout_temperature_target_set=get("serial.timeout.temperatureTargetSet"),
            temperature_autoreport_interval=get("serial.timeout.temperatureAutoreport"),
            timeout_sd_status=get("serial.timeout.sdStatus"),
            timeout_resend_ok=get("serial.timeout.resendOk"),
            resend_quiet=get("serial.timeout.resendQuiet"),
            sd_status_autoreport_interval=get("serial.timeout.sdStatusAutoreport"),
            max_timeouts_idle=get("serial.maxCommunicationTimeouts.idle"),
            max_timeouts_printing=get("serial.maxCommunicationTimeouts.printing"),
            max_timeouts_long=get("serial.maxCommunicationTimeouts.long"),
            additional_baudrates=tuple(get("serial.additionalBaudrates")),
            low_latency=get("serial.lowLatency"),
            pausing_commands=frozenset(c.upper() for c in get("serial.pausingCommands")),
            blocked_commands=frozenset(c.upper() for c in get("serial.blockedCommands")),
            ignored_commands=frozenset(c.upper() for c in get("serial.ignoredCommands")),
            emergency_commands=frozenset(c.upper() for c in get("serial.emergencyCommands")),
        )
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown comm options: {', '.join(sorted(unknown))}")
        values.update(overrides)
        return cls(**values)
