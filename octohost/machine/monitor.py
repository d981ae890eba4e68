"""The machine: status, errors, reconnection and snapshots of the one printer, in one object.

It watches the printer through the event bus (``Connecting``, ``Connected``, ``Disconnecting``,
``Error``, job events) and its public PrinterInterface methods, and hears firmware messages and
temperature reports from the printer (:meth:`firmware_message`, :meth:`heard`: both rare, never
per line). One thread, ``octohost.machine``, runs reconnection attempts when they are due and
publishes a snapshot at least once a second while connected; between those it sleeps. While it
waits to reconnect to a device path that went missing (unplugged), it looks for the path four
times a second and tries at once when it is back (re-plugged), whatever the backoff said.

Who asked matters: a ``Connecting`` event this object caused (its own attempt, a restart) is
counted in ``_own_pending`` and does not count as a person's connect; a ``Disconnecting`` event
nobody here caused is a person's (or a plugin's, or the firmware's ``action:disconnect``), and
after it nothing reconnects.
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from octohost.comm.states import ERROR_STATES, OPERATIONAL_STATES, State
from octohost.events import Events

from .breaker import OPEN, Policy
from .errors import ErrorLog
from .health import Health
from .reconnect import CONNECTING, WAITING, Reconnector, Target
from .registry import DriverRegistry
from .snapshot import SNAPSHOT_ERRORS, Publisher, Snapshot
from .status import RECONNECTABLE, classify_error, code_for_state, firmware_condition, status

log = logging.getLogger(__name__)

#: seconds between snapshots while connected, and while not (when nothing changes)
TICK = 1.0
IDLE_TICK = 10.0
#: seconds between looks for an unplugged device path while waiting to reconnect (one stat call)
PORT_WATCH = 0.25
#: resend storm: at least this many resends, and this fraction of the lines sent, within the window
STORM_RESENDS, STORM_RATIO, STORM_WINDOW = 10, 0.05, 30.0
#: temperature deviation: a heater that reached its target drifts this far while printing
DEVIATION = 10.0
REACHED = 2.0
HEATING_MARGIN = 3.0


class MachineBusy(Exception):
    """A restart was refused: a job is running (cancel it first)."""


class Machine:
    def __init__(self, settings: Any, printer: Any, event_bus: Any, registry: DriverRegistry,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        self._printer = printer
        self._bus = event_bus
        self.registry = registry
        self._clock = clock
        self.errors = ErrorLog()
        self.health = Health()
        self.snapshots = Publisher()
        self.reconnector = Reconnector(Policy.from_settings(settings), settings.get("serial.reconnect.stableSeconds"),
                                       settings.get("serial.reconnect.enabled"))
        self._lock = threading.RLock()
        self._status_lock = threading.Lock()
        self._own_pending = 0
        self._autoconnect_pending = False  # the next connect is the start-up's autoconnect
        self._problem: int | None = None      # 3xx/4xx/5xx of the error that closed the connection
        self._problem_text = ""
        self._condition: int | None = None    # 3xx the firmware reported while connected (filament runout)
        self._condition_text = ""
        self._status_code = 130
        self._status_text = ""
        self._resends: collections.deque[tuple[float, int, int]] = collections.deque(maxlen=64)
        self._reached: set[str] = set()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._events = {
            Events.CONNECTING: self._on_connecting, Events.CONNECTED: self._on_connected,
            Events.DISCONNECTING: self._on_disconnecting, Events.ERROR: self._on_error,
            Events.PRINTER_STATE_CHANGED: self._on_change, Events.PRINT_STARTED: self._on_job_runs,
            Events.PRINT_RESUMED: self._on_job_runs, Events.PRINT_CANCELLING: self._on_cancelling,
        }

    # -- life cycle ------------------------------------------------------------------------------

    def start(self) -> Machine:
        if self._bus is not None:
            for event, handler in self._events.items():
                self._bus.subscribe(event, handler)
        problem = self.registry.check()
        if problem is not None:
            log.error("the printer connection cannot start: %s", problem)
            self._set_problem(classify_error(problem), problem)
        self._thread = threading.Thread(target=self._run, name="octohost.machine", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop reconnecting and publishing (before the printer closes, so nothing reconnects then)."""
        self.reconnector.disarm()
        self._stopped.set()
        self._wake.set()
        if self._bus is not None:
            for event, handler in self._events.items():
                self._bus.unsubscribe(event, handler)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)

    def autoconnect(self, connect: Callable[[], object]) -> None:
        """Run ``connect`` as ``serial.autoconnect``'s connect at start: retried with backoff until it
        succeeds (a host often boots before its printer is switched on), not given up at once. A
        connect that raises or is stopped (False, a plugin's ``printer.handle_connect``) leaves the
        next one a person's."""
        with self._lock:
            self._autoconnect_pending = True
        started = False
        try:
            started = connect() is not False
        finally:
            if not started:  # no Connecting event will take the flag
                with self._lock:
                    self._autoconnect_pending = False

    # -- what the printer tells us ---------------------------------------------------------------

    def open_transport(self, comm: Any, port: str | None, baudrate: int | None) -> Any:
        """The printer's transport factory: the registry's driver opens the port."""
        return self.registry.open(comm, port, baudrate)

    def heard(self) -> None:
        self.health.heard()

    def firmware_message(self, line: str) -> None:
        """A firmware message (``echo:``, ``// action:``, a non-fatal ``Error:``): machine problems show."""
        self.health.heard()
        code = firmware_condition(line)
        if code is None:
            return
        self.errors.add(code, line)
        with self._lock:
            self._condition, self._condition_text = code, line
        self._wake.set()

    # -- events (event bus thread) -----------------------------------------------------------------

    def _on_connecting(self, event: str, payload: Any) -> None:
        payload = payload or {}
        with self._lock:
            if self._own_pending:
                self._own_pending -= 1
                return
            self.reconnector.user_connect(Target(payload.get("port"), payload.get("baudrate"), payload.get("profile")),
                                          keep_trying=self._autoconnect_pending)
            self._autoconnect_pending = False
            self._clear_problem()
        self._wake.set()

    def _on_connected(self, event: str, payload: Any) -> None:
        payload = payload or {}
        with self._lock:
            self.reconnector.connected(self._clock(), payload.get("port"), payload.get("baudrate"))
            self._clear_problem()
            self._condition = None
        self.health.heard()
        self._wake.set()

    def _on_disconnecting(self, event: str, payload: Any) -> None:
        with self._lock:
            if self._own_pending:
                return  # the connect of our own attempt closes the failed connection first
            self.reconnector.disarm()
            self._clear_problem()
            self._condition = None
        self._wake.set()

    def _on_error(self, event: str, payload: Any) -> None:
        message = str((payload or {}).get("error") or "unknown error")
        code = classify_error(message)
        self.errors.add(code, message)
        with self._lock:
            self._set_problem(code, message)
            self._read_policy()
            if code in RECONNECTABLE and self.reconnector.lost(self._clock()):
                info = self.reconnector.info(self._clock())
                log.warning("connection problem (%d: %s); reconnecting in %.1f s (circuit %s)", code, message,
                            info["nextRetryIn"] or 0.0, info["circuit"])
                self._fire(Events.RECONNECT_SCHEDULED, {"code": code, "error": message, **self._connection_info()})
            else:
                self.reconnector.disarm()
        self._wake.set()

    def _on_change(self, event: str, payload: Any) -> None:
        self._wake.set()

    def _on_job_runs(self, event: str, payload: Any) -> None:
        with self._lock:
            self._condition = None
        self._wake.set()

    def _on_cancelling(self, event: str, payload: Any) -> None:
        error = (payload or {}).get("firmwareError")
        if error:
            code = classify_error(error)
            code = code if 300 <= code < 400 else 300
            self.errors.add(code, error)
            with self._lock:
                self._condition, self._condition_text = code, error
        self._wake.set()

    def _read_policy(self) -> None:
        """``serial.reconnect.*`` as they are now (changed through the API or config.yaml meanwhile)."""
        settings, reconnector = self._settings, self.reconnector
        reconnector.breaker.policy = Policy.from_settings(settings)
        reconnector.enabled = settings.get("serial.reconnect.enabled")
        reconnector.stable_seconds = settings.get("serial.reconnect.stableSeconds")

    def _set_problem(self, code: int, message: str) -> None:
        self._problem, self._problem_text = code, message

    def _clear_problem(self) -> None:
        self._problem, self._problem_text = None, ""

    # -- commands --------------------------------------------------------------------------------

    def restart(self) -> None:
        """Clear status and errors and open the connection again (the driver may restart first).

        Raises :class:`MachineBusy` while a job runs: restarting would end it.
        """
        printer = self._printer
        if printer.is_printing() or printer.is_paused():
            raise MachineBusy("a job is running: cancel it before restarting the connection")
        self.errors.clear()
        with self._lock:
            self._clear_problem()
            self._condition = None
            self._resends.clear()
            self.reconnector.restart(self._clock())
            target = self.reconnector.target
            if target is None:
                self.reconnector.target = Target(self._settings.get("serial.port"),
                                                 self._settings.get("serial.baudrate"))
        driver = self.registry.expected(self.reconnector.target.port if self.reconnector.target else None)
        if driver is not None:
            try:
                driver.restart(dict(self.registry.active_values))
            except Exception:
                log.exception("driver %s failed to restart", driver.slug)
        log.info("machine restart requested")
        self._wake.set()

    def subscribe(self, callback: Callable[[Snapshot], object]) -> Callable[[], None]:
        """Receive every :class:`~.snapshot.Snapshot` (see :mod:`.snapshot`); returns the unsubscriber."""
        return self.snapshots.subscribe(callback)

    # -- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        last_tick = 0.0
        while not self._stopped.is_set():
            now = self._clock()
            target = self.reconnector.due(now)
            if target is not None:
                self._attempt(target)
            now = self._clock()
            reading = self._read()
            connected = reading[0] in OPERATIONAL_STATES
            interval = TICK if connected else IDLE_TICK
            changed = self._update_status(reading)
            if changed or now - last_tick >= interval:
                last_tick = now
                try:
                    self._publish(changed, reading)
                except Exception:
                    log.exception("publishing the machine status failed")
            waits = [last_tick + interval - self._clock()]
            retry = self.reconnector.wait_seconds(self._clock())
            if retry is not None:
                waits.append(retry)
            watched = self._missing_port()
            if watched is not None:
                waits.append(PORT_WATCH)
            self._wake.wait(max(0.005, min(waits)))
            self._wake.clear()
            if watched is not None and os.path.exists(watched) and self.reconnector.expedite(self._clock()):
                log.info("port %s is back: reconnecting now", watched)

    def _read(self) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(state id, current data, temperatures) of the printer: read once per look."""
        printer = self._printer
        return printer.get_state_id(), printer.get_current_data() or {}, printer.get_current_temperatures() or {}

    def _missing_port(self) -> str | None:
        """The device path to watch while waiting to reconnect to a port that is missing (unplugged)."""
        info = self.reconnector.info(self._clock())
        target = self.reconnector.target
        with self._lock:
            missing = self._problem == 401
        if info["state"] != WAITING or not missing or target is None or not target.port:
            return None
        return target.port if str(target.port).startswith("/") else None

    def _attempt(self, target: Target) -> None:
        info = self._connection_info()
        log.info("reconnect attempt %d to %s at %s baud (circuit %s)", info["attempt"], target.port, target.baudrate,
                 info["circuit"])
        self._fire(Events.RECONNECT_ATTEMPT, {"port": target.port, "baudrate": target.baudrate, **info})
        with self._lock:
            self._own_pending += 1
        try:
            started = self._printer.connect(port=target.port, baudrate=target.baudrate, profile=target.profile)
        except Exception as exc:
            started = False
            log.error("reconnect attempt failed to start: %s", exc)
            self.errors.add(classify_error(str(exc)), f"Reconnect attempt failed: {exc}")
        if started is False:
            with self._lock:
                self._own_pending = max(0, self._own_pending - 1)
                self.reconnector.lost(self._clock())

    # -- status ------------------------------------------------------------------------------------

    def _connection_info(self) -> dict[str, Any]:
        info = self.reconnector.info(self._clock())
        printer = self._printer
        if printer.is_operational():
            state = "connected"
        elif info["state"] == WAITING:
            state = "waiting"
        elif info["state"] == CONNECTING:
            state = "connecting"
        elif printer.is_error():
            state = "error"
        elif printer.get_state_id() in (State.OPEN_SERIAL, State.DETECT_SERIAL, State.DETECT_BAUDRATE,
                                        State.CONNECTING):
            state = "connecting"
        else:
            state = "disconnected"
        return {"state": state, "attempt": info["attempt"], "nextRetryIn": info["nextRetryIn"],
                "circuit": info["circuit"], "lastCommunication": self.health.last_communication}

    def _current(self, reading: tuple[str, dict[str, Any], dict[str, Any]]) -> tuple[int, str]:
        printer = self._printer
        state, data, temperatures = reading
        info = self.reconnector.info(self._clock())
        with self._lock:
            problem, problem_text = self._problem, self._problem_text
            condition, condition_text = self._condition, self._condition_text
        target = self.reconnector.target
        where = target.port if target is not None and target.port else "the printer"
        if info["state"] == WAITING and info["circuit"] == OPEN:
            return 405, (f"{self.reconnector.breaker.failures} attempts failed; the circuit is open. "
                         f"Last error: {problem_text}")
        if info["state"] == WAITING:
            return 200, f"Reconnecting to {where} (attempt {info['attempt'] + 1} next): {problem_text}"
        if info["state"] == CONNECTING:  # (also while a restart's old connection is still up: not ready yet)
            return 200, f"Reconnecting to {where} (attempt {info['attempt']})"
        if state in ERROR_STATES or (problem is not None and state not in OPERATIONAL_STATES
                                     and code_for_state(state) != 120):
            if problem is None:
                problem_text = printer.get_state_string()
                problem = classify_error(problem_text)
            return problem, problem_text
        if state in OPERATIONAL_STATES:
            if condition is not None:
                return condition, condition_text
            warning = self._warning(state, data.get("resends") or {}, temperatures)
            if warning is not None:
                return warning
            flags = data.get("state", {}).get("flags", {})
            if any(flags.get(flag) for flag in ("cancelling", "pausing", "resuming", "finishing")):
                return 113, printer.get_state_string()
            if state == State.OPERATIONAL and self._heating(temperatures):
                return 112, "Heating"
        return code_for_state(state), printer.get_state_string()

    @staticmethod
    def _heating(temperatures: dict[str, Any]) -> bool:
        for values in temperatures.values():
            target, actual = values.get("target"), values.get("actual")
            if target and actual is not None and actual < target - HEATING_MARGIN:
                return True
        return False

    def _warning(self, state: str, resends: dict[str, Any],
                 temperatures: dict[str, Any]) -> tuple[int, str] | None:
        now = self._clock()
        count, sent = resends.get("count") or 0, resends.get("transmitted") or 0
        history = self._resends
        if history and sent < history[-1][2]:
            history.clear()  # a new connection counts from zero
        history.append((now, count, sent))
        while history and now - history[0][0] > STORM_WINDOW:
            history.popleft()
        resent, lines = count - history[0][1], sent - history[0][2]
        if resent >= STORM_RESENDS and lines and resent / lines >= STORM_RATIO:
            return 202, f"{resent} of the last {lines} lines were resent"
        if state in (State.PRINTING, State.PAUSED):
            for heater, values in temperatures.items():
                target, actual = values.get("target"), values.get("actual")
                if not target or actual is None:
                    self._reached.discard(heater)
                    continue
                if abs(actual - target) <= REACHED:
                    self._reached.add(heater)
                elif heater in self._reached and abs(actual - target) > DEVIATION:
                    return 201, f"{heater} is at {actual:.1f} °C, target {target:.1f} °C"
        else:
            self._reached.clear()
        return None

    def _update_status(self, reading: tuple[str, dict[str, Any], dict[str, Any]] | None = None) -> bool:
        with self._status_lock:  # the machine thread and API threads both ask; the warnings keep history
            code, text = self._current(reading if reading is not None else self._read())
        with self._lock:
            changed = (code, text) != (self._status_code, self._status_text)
            old = self._status_code
            self._status_code, self._status_text = code, text
        if changed and code != old:
            log.info("machine status %d -> %d (%s): %s", old, code, status(code).label, text)
        return changed

    def status(self) -> dict[str, Any]:
        return status(self._status_code).as_dict()

    @property
    def status_code(self) -> int:
        return self._status_code

    def describe(self) -> dict[str, Any]:
        """The body of ``GET /api/machine``."""
        self._update_status()
        target = self.reconnector.target
        port = target.port if target is not None else self._settings.get("serial.port")
        driver = self.registry.expected(port)
        return {
            "driver": driver.describe() if driver is not None else None,
            "drivers": [d.describe() for d in self.registry.all()],
            "status": self.status(),
            "statusText": self._status_text,
            "errors": self.errors.entries(),
            "connection": self._connection_info(),
        }

    def snapshot(self, reading: tuple[str, dict[str, Any], dict[str, Any]] | None = None) -> Snapshot:
        printer = self._printer
        state, data, temperatures = reading if reading is not None else self._read()
        job = (data.get("job") or {}).get("file") or {}
        progress = data.get("progress") or {}
        selected = bool(job.get("path"))
        return Snapshot(
            time=time.time(), state=state, stateText=printer.get_state_string(),
            status=self.status(), statusText=self._status_text,
            progress={key: progress.get(key) for key in ("completion", "filepos", "printTime", "printTimeLeft")}
            if selected else None,
            temperatures={heater: {"actual": values.get("actual"), "target": values.get("target")}
                          for heater, values in temperatures.items() if isinstance(values, dict)},
            job={"name": job.get("name"), "path": job.get("path"), "origin": job.get("origin"),
                 "size": job.get("size"), "user": (data.get("job") or {}).get("user")} if selected else None,
            errors=self.errors.entries()[-SNAPSHOT_ERRORS:],
            connection=self._connection_info(),
        )

    def _publish(self, status_changed: bool, reading: tuple[str, dict[str, Any], dict[str, Any]]) -> None:
        snapshot = self.snapshot(reading)
        if status_changed:
            self._fire(Events.MACHINE_STATUS_CHANGED, {"status": snapshot.status, "statusText": snapshot.statusText,
                                                       "connection": snapshot.connection})
        self.snapshots.publish(snapshot)
        self._fire(Events.MACHINE_SNAPSHOT, snapshot.as_dict())

    def _fire(self, event: str, payload: Any) -> None:
        if self._bus is not None:
            self._bus.fire(event, payload)
