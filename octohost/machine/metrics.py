"""``GET /metrics``: the machine's figures in Prometheus' text format.

``prometheus_client`` is imported on the first scrape, not at start-up: a daemon nobody scrapes
does not carry it in memory. Each scrape builds its families from figures that exist anyway
(the sender's counters, the printer's current data, the reconnector, the push hub), so
collecting costs nothing between scrapes and nothing per serial line.
"""

from __future__ import annotations

from typing import Any

from .breaker import CLOSED, HALF_OPEN, OPEN

CIRCUIT_VALUES = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}


def render(machine: Any, printer: Any, push_clients: int | None) -> tuple[bytes, str]:
    """(body, content type) of one scrape."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    families: list[Any] = []

    def gauge(name: str, documentation: str, value: float | None, labels: dict[str, str] | None = None) -> None:
        family = GaugeMetricFamily(name, documentation, labels=list(labels or {}))
        if value is not None:
            family.add_metric(list((labels or {}).values()), float(value))
        families.append(family)

    def counter(name: str, documentation: str, value: float | None) -> None:
        family = CounterMetricFamily(name, documentation)
        if value is not None:
            family.add_metric([], float(value))
        families.append(family)

    data = printer.get_current_data() or {}
    counters = _comm_counters(printer, data)
    counter("octohost_serial_lines_sent", "Lines sent to the printer on the current connection.", counters.get("sent"))
    counter("octohost_serial_resends", "Lines resent on the current connection.", counters.get("resent"))
    counter("octohost_serial_checksum_errors", "Line errors the firmware reported (checksum, line number) on the "
            "current connection.", counters.get("lineErrors"))
    counter("octohost_serial_timeouts", "Communication timeouts on the current connection.", counters.get("timeouts"))
    reconnector = machine.reconnector
    counter("octohost_reconnect_attempts", "Reconnection attempts since start.", reconnector.total_attempts)
    counter("octohost_reconnects", "Reconnection attempts that led to a connection, since start.",
            reconnector.reconnects)
    gauge("octohost_circuit_state", "Reconnection circuit breaker: 0 closed, 1 half-open, 2 open.",
          CIRCUIT_VALUES.get(reconnector.breaker.state, 0))
    gauge("octohost_machine_status_code", "Machine status code (1xx fine, 2xx warning, 3xx machine, 4xx driver, "
          "5xx unknown).", machine.status_code)
    gauge("octohost_machine_errors", "Errors in the machine's error list.", len(machine.errors.entries()))
    gauge("octohost_printer_operational", "1 while connected and answering.", 1 if printer.is_operational() else 0)
    gauge("octohost_printer_printing", "1 while a job runs.", 1 if printer.is_printing() else 0)
    gauge("octohost_last_communication_timestamp_seconds", "When the printer was last heard (Unix time).",
          machine.health.last_communication)
    temperatures = GaugeMetricFamily("octohost_temperature_celsius", "Heater temperatures.",
                                     labels=["heater", "kind"])
    for heater, values in sorted((printer.get_current_temperatures() or {}).items()):
        for kind in ("actual", "target"):
            value = values.get(kind) if isinstance(values, dict) else None
            if isinstance(value, (int, float)):
                temperatures.add_metric([heater, kind], float(value))
    families.append(temperatures)
    progress = data.get("progress") or {}
    completion = progress.get("completion")
    gauge("octohost_job_progress_ratio", "Progress of the current job, 0 to 1.",
          completion / 100.0 if isinstance(completion, (int, float)) else None)
    gauge("octohost_job_print_time_seconds", "Seconds the current job has been printing.", progress.get("printTime"))
    gauge("octohost_job_print_time_left_seconds", "Estimated seconds left.", progress.get("printTimeLeft"))
    gauge("octohost_push_clients", "Clients on the push socket.", push_clients)
    histogram = _turnaround(printer)
    if histogram is not None:
        families.append(histogram)

    class _Collector:
        def collect(self) -> Any:
            return iter(families)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


def _comm_counters(printer: Any, data: dict[str, Any]) -> dict[str, Any]:
    get = getattr(printer, "get_comm_counters", None)
    if callable(get):
        counters = get()
        if counters:
            return counters
    resends = data.get("resends") or {}
    return {"sent": resends.get("transmitted"), "resent": resends.get("count")}


def _turnaround(printer: Any) -> Any:
    """The ok -> next line histogram, when the printer keeps one (cumulative bucket counts)."""
    get = getattr(printer, "get_turnaround_histogram", None)
    stats = get() if callable(get) else None
    if not stats:
        return None
    from prometheus_client.core import HistogramMetricFamily

    buckets = [(str(bound), float(count)) for bound, count in stats["buckets"]]
    return HistogramMetricFamily("octohost_serial_turnaround_seconds",
                                 "Host time from handling an ok to the next line written (one ok in 16 "
                                 "sampled), on the current connection.", buckets=buckets, sum_value=stats["sum"])
