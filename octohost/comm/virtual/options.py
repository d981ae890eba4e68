"""Everything that shapes the virtual printer: its firmware, its speed and the faults it injects."""

from dataclasses import dataclass, field


@dataclass
class VirtualOptions:
    """Knobs of the virtual printer; every fault rate defaults to 0 so the default printer is well behaved.

    Durations of simulated things (heating, homing, dwell, SD printing, report intervals) are in
    simulated seconds; ``time_scale`` makes simulated time run that many times faster than real
    time, so tests of M109/M190/G28 finish in a blink. ``ok_delay`` is real time (USB latency).
    """

    seed: int = 0
    rx_buffer_size: int | None = 128
    ok_delay: float = 0.0
    checksum_error_rate: float = 0.0
    lost_ok_rate: float = 0.0
    missing_line_number_rate: float = 0.0
    reset_after_lines: int | None = None
    disconnect_after_lines: int | None = None
    advanced_ok: bool = False
    flush_rx_on_error: bool = False  # True: like Marlin, drop unanswered what waits in the RX buffer behind a bad line
    autoreport_temp: bool = True
    autoreport_sd: bool = True
    extended_m20: bool = True
    busy_protocol: bool = True
    emergency_parser: bool = True  # False: M108 and M112 wait their turn like any command (Cap:EMERGENCY_PARSER:0)
    time_scale: float = 1.0
    heat_rate: float = 5.0
    ambient_temperature: float = 21.0
    hotend_idle_temperature: float = 21.3
    temperature_window: float = 1.0
    extruder_count: int = 1
    has_chamber: bool = False
    homing_time: float = 1.0
    probing_time: float = 3.0
    busy_interval: float = 2.0
    wait_report_interval: float = 1.0
    sd_card: bool = True
    sd_files: dict = field(default_factory=dict)
    sd_print_rate: float = 4096.0
    firmware_name: str = "Marlin 2.1.2 (octohost virtual)"
    machine_type: str = "Virtual Printer"
    planner_buffer_size: int = 16
    command_buffer_size: int = 4
    banner: tuple | None = None  # lines after "start"; None: Marlin's, naming firmware_name
    accepted_kept: int | None = 10_000  # accepted commands remembered for inspection (``accepted``); None: all

    def __post_init__(self):
        if self.banner is None:
            self.banner = (f"echo:{self.firmware_name}", "echo: Last Updated: 2026-11-23 | Author: octohost",
                           "echo: Free Memory: 4093  PlannerBufferBytes: 1488")
        for name in ("checksum_error_rate", "lost_ok_rate", "missing_line_number_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        for name in ("time_scale", "heat_rate", "sd_print_rate", "wait_report_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, not {getattr(self, name)!r}")
        for name in ("temperature_window", "busy_interval", "homing_time", "probing_time"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, not {getattr(self, name)!r}")
        if self.rx_buffer_size is not None and self.rx_buffer_size < 1:
            raise ValueError("rx_buffer_size must be at least 1 byte (or None for unlimited), "
                             f"not {self.rx_buffer_size!r}")
        if self.accepted_kept is not None and self.accepted_kept < 0:
            raise ValueError(f"accepted_kept must not be negative (or None for all), not {self.accepted_kept!r}")
        if self.extruder_count < 1:
            raise ValueError(f"extruder_count must be at least 1, not {self.extruder_count!r}")
        if self.ok_delay < 0:
            raise ValueError(f"ok_delay must not be negative, not {self.ok_delay!r}")


def _snake_case(name):
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def options_from_settings(settings, **overrides):
    """VirtualOptions from the ``serial.virtual`` settings, with keyword ``overrides`` on top."""
    values = {}
    for key, value in (settings.get("serial.virtual") or {}).items():
        field_name = _snake_case(key)
        if field_name in VirtualOptions.__dataclass_fields__:
            values[field_name] = value
    values.update({key: value for key, value in overrides.items() if value is not None})
    return VirtualOptions(**values)
