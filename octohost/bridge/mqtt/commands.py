"""Commands from the ``command`` topic: checked, answered ACCEPTED or REJECTED, run, then FINISHED
or FAILED; an id seen before is answered again, never run twice.

A message is ``{"id": "...", "command": "START_PRINT", "args": {...}}``. One worker thread runs
commands in arrival order. When it is idle, the client's network thread checks a message itself
and answers ACCEPTED or REJECTED at once (checks are quick: arguments, printer state, a file's
existence), so the answer leaves with that thread's next write; only the action goes to the
worker. While the worker is busy, the raw payload is queued (bounded; a full queue rejects with
``busy``) and checked when its turn comes, so a check always sees what the commands before it did.

Each command is a :class:`Spec`: a ``check`` that raises :class:`Rejected` before anything
happens (bad arguments, wrong printer state) and returns the action, which runs after ACCEPTED
and returns the FINISHED data or a :class:`Waiter` that decides later, from printer events and
state, whether it FINISHED or FAILED. Everything goes through the public PrinterInterface, the
file manager and the profile manager.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeAlias

from octohost import __version__
from octohost.events import Events
from octohost.printer.interface import InvalidFileLocation, InvalidFileType, PrinterInterface
from octohost.util import limits

log = logging.getLogger(__name__)

TAGS = frozenset({"source:mqtt"})
MAX_PAYLOAD = 64 * 1024
MAX_ID_LENGTH = 128
MAX_GCODE_BYTES = 64 * 1024
#: files and folders a LIST_FILES answer holds at most (the rest is cut off, ``truncated``)
MAX_LISTED = 2000
#: seconds a command may take to reach its end state (a connect, a cancel with its script)
WAIT_TIMEOUT = 60.0
QUEUE_SIZE = 64
REMEMBERED_IDS = 1024

#: publishes an answer: (event name, command id, data) -> its seq, or None
Answer = Callable[[str, Any, dict[str, Any]], "int | None"]
#: (seq, timeout) -> whether the broker acknowledged that event within the timeout
WaitSent = Callable[[int, float], bool]
#: seconds an accepted command waits for its ACCEPTED to reach the broker before it runs
ANSWER_FIRST_TIMEOUT = 0.25


class Rejected(Exception):
    """The command is refused before anything happened; the message is the reason."""


class Failed(Exception):
    """The command was accepted but did not work; the message is the reason."""


class Waiter:
    """Decides when a running command is FINISHED or FAILED: on one of ``finished_events`` /
    ``failed_events`` from the bus, when ``done()`` / ``failed()`` (printer state) says so, or
    after ``timeout`` seconds (FAILED). ``act`` (raising :class:`Failed`) starts the command once
    the waiter listens, so no event it causes can slip by before."""

    def __init__(self, finished_events: tuple[str, ...] = (), failed_events: tuple[str, ...] = (),
                 done: Callable[[], bool] | None = None, failed: Callable[[], str | None] | None = None,
                 timeout: float = WAIT_TIMEOUT, data: Callable[[], dict[str, Any]] | None = None,
                 act: Callable[[], None] | None = None) -> None:
        self.act = act
        self.finished_events = finished_events
        self.failed_events = failed_events
        self.done = done
        self.failed = failed
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.data = data

    def outcome(self, event: str | None = None, payload: Any = None) -> tuple[str, dict[str, Any]] | None:
        if event in self.finished_events:
            return "FINISHED", self.data() if self.data else {}
        if event in self.failed_events:
            reason = (payload or {}).get("reason") or (payload or {}).get("error") or event
            return "FAILED", {"reason": str(reason)}
        if self.done is not None and self.done():
            return "FINISHED", self.data() if self.data else {}
        if self.failed is not None:
            reason = self.failed()
            if reason:
                return "FAILED", {"reason": reason}
        if time.monotonic() >= self.deadline:
            return "FAILED", {"reason": f"timed out after {self.timeout:g} s"}
        return None


#: what a check returns: an action run after ACCEPTED (returning the FINISHED data), or a Waiter
Action: TypeAlias = "Callable[[], dict[str, Any] | None] | Waiter"


@dataclass(frozen=True)
class Services:
    printer: PrinterInterface
    files: Any
    profiles: Any
    machine: Any = None  # octohost.machine's Machine, for the status code (None: derived from the state)


def _path(args: dict[str, Any], key: str = "path") -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value.strip("/") or len(value) > 4096:
        raise Rejected(f"bad arguments: args.{key} must be a file path")
    return value.strip("/")


def _state(printer: PrinterInterface) -> str:
    return f"wrong printer state: {printer.get_state_string()}"


def _require(condition: bool, printer: PrinterInterface) -> None:
    if not condition:
        raise Rejected(_state(printer))


def _error_reason(printer: PrinterInterface) -> str | None:
    return printer.get_state_string() if printer.is_error() else None


# -- the commands ------------------------------------------------------------------------------

def start_print(s: Services, args: dict[str, Any]) -> Action:
    path = _path(args)
    _require(s.printer.is_ready(), s.printer)
    if not s.files.file_exists(path):
        raise Rejected(f"bad arguments: no such file: {path}")

    def act() -> None:
        try:
            started = s.printer.select_file(path, False, printAfterSelect=True, tags=TAGS)
        except (InvalidFileLocation, InvalidFileType) as exc:
            raise Failed(str(exc)) from None
        if not started:
            raise Failed(_state(s.printer))
    return Waiter(finished_events=(Events.PRINT_STARTED,), failed_events=(Events.PRINT_FAILED,),
                  failed=lambda: _error_reason(s.printer), data=lambda: {"path": path}, act=act)


def stop_print(s: Services, args: dict[str, Any]) -> Action:
    _require(s.printer.is_printing() or s.printer.is_paused(), s.printer)

    # the print ends with one of these events (it may have finished by itself meanwhile)
    return Waiter(finished_events=(Events.PRINT_CANCELLED, Events.PRINT_DONE), failed_events=(Events.PRINT_FAILED,),
                  act=lambda: s.printer.cancel_print(tags=TAGS))


def pause_print(s: Services, args: dict[str, Any]) -> Action:
    _require(s.printer.is_printing() and not s.printer.is_paused() and not s.printer.is_pausing()
             and not s.printer.is_cancelling(), s.printer)

    return Waiter(finished_events=(Events.PRINT_PAUSED,), failed_events=(Events.PRINT_DONE, Events.PRINT_FAILED,
                                                                        Events.PRINT_CANCELLED),
                  done=s.printer.is_paused, failed=lambda: _error_reason(s.printer),
                  act=lambda: s.printer.pause_print(tags=TAGS))


def resume_print(s: Services, args: dict[str, Any]) -> Action:
    _require(s.printer.is_paused(), s.printer)

    return Waiter(finished_events=(Events.PRINT_RESUMED,), failed_events=(Events.PRINT_FAILED,
                                                                         Events.PRINT_CANCELLED),
                  done=lambda: s.printer.is_printing() and not s.printer.is_paused(),
                  failed=lambda: _error_reason(s.printer), act=lambda: s.printer.resume_print(tags=TAGS))


def send_info(s: Services, args: dict[str, Any]) -> Action:
    def run() -> dict[str, Any]:
        from .status import machine_status

        state, port, baudrate, profile = s.printer.get_current_connection()
        firmware = getattr(s.printer, "get_firmware_info", lambda: None)()
        profile = profile or s.profiles.get_current_or_default() or {}
        return {"state": s.printer.get_state_id(), "status": machine_status(s.printer, s.machine),
                "connection": {"state": state, "port": port, "baudrate": baudrate},
                "profile": {"id": profile.get("id"), "name": profile.get("name"), "model": profile.get("model")},
                "firmware": firmware, "storage": _storage(s), "version": __version__}
    return run


def _storage(s: Services) -> dict[str, Any]:
    usage = s.files.storage_usage()
    return {"free_space": usage.get("free"), "total_space": usage.get("total")}


def _file_info(entry: dict[str, Any]) -> dict[str, Any]:
    """A file manager entry in the seed's shape: type, name, ro, m_timestamp, size (+ path)."""
    folder = entry.get("type") == "folder"
    info = {"type": "FOLDER" if folder else "FILE", "name": entry.get("name"), "path": entry.get("path"),
            "ro": False, "m_timestamp": entry.get("date"), "size": entry.get("size")}
    analysis = entry.get("gcodeAnalysis") or {}
    if analysis.get("estimatedPrintTime") is not None:
        info["estimated_print_time"] = analysis["estimatedPrintTime"]
    return info


def _tree(entries: list[dict[str, Any]], budget: list[int]) -> tuple[list[dict[str, Any]], bool]:
    """Entries with their children, at most ``budget[0]`` in all (depth is bounded by the file
    manager's own listing limit, so the recursion is too)."""
    out: list[dict[str, Any]] = []
    truncated = False
    for entry in entries:
        if budget[0] <= 0:
            return out, True
        budget[0] -= 1
        info = _file_info(entry)
        if entry.get("type") == "folder":
            info["children"], cut = _tree(entry.get("children") or [], budget)
            truncated = truncated or cut or bool(entry.get("truncated"))
        out.append(info)
    return out, truncated


def list_files(s: Services, args: dict[str, Any]) -> Action:
    folder = args.get("path", "")
    if not isinstance(folder, str) or len(folder) > 4096:
        raise Rejected("bad arguments: args.path must be a folder path")
    folder = folder.strip("/")
    if folder and not s.files.folder_exists(folder):
        raise Rejected(f"bad arguments: no such folder: {folder}")

    def run() -> dict[str, Any]:
        listing = s.files.list_files(folder, recursive=True)
        children, truncated = _tree(list(listing.values()), [MAX_LISTED])
        root = {"type": "FOLDER", "name": folder.rsplit("/", 1)[-1] or "/", "path": folder, "ro": False,
                "children": children}
        return dict({"files": root, "truncated": truncated}, **_storage(s))
    return run


def send_file_info(s: Services, args: dict[str, Any]) -> Action:
    path = _path(args)
    if not (s.files.file_exists(path) or s.files.folder_exists(path)):
        raise Rejected(f"bad arguments: no such file: {path}")

    def run() -> dict[str, Any]:
        entry = s.files.get_file(path)
        if entry is None:
            raise Failed(f"no such file: {path}")
        info = _file_info(entry)
        if entry.get("type") == "folder":
            info["children"], info["truncated"] = _tree(entry.get("children") or [], [MAX_LISTED])
        return info
    return run


def delete_file(s: Services, args: dict[str, Any]) -> Action:
    path = _path(args)
    if not s.files.file_exists(path):
        raise Rejected(f"bad arguments: no such file: {path}")
    if not s.printer.can_modify_file(path, False):
        raise Rejected(f"wrong printer state: {path} is being printed")

    def run() -> dict[str, Any]:
        s.files.remove_file(path)
        return {"path": path}
    return run


def gcode(s: Services, args: dict[str, Any]) -> Action:
    lines = args.get("gcode")
    if isinstance(lines, str):
        lines = lines.splitlines()
    if (not isinstance(lines, list) or not lines or not all(isinstance(line, str) for line in lines)
            or sum(len(line) for line in lines) > MAX_GCODE_BYTES):
        raise Rejected("bad arguments: args.gcode must be a string or a list of strings "
                       f"(at most {MAX_GCODE_BYTES} bytes)")
    lines = [line.strip() for line in lines if line.strip()]
    if not lines:
        raise Rejected("bad arguments: args.gcode holds no command")
    _require(s.printer.is_operational(), s.printer)

    def run() -> dict[str, Any]:
        try:
            s.printer.commands(lines, tags=TAGS)
        except ValueError as exc:
            raise Failed(str(exc)) from None
        return {"lines": len(lines)}
    return run


def set_temperature(s: Services, args: dict[str, Any]) -> Action:
    heater, target = args.get("heater"), args.get("target")
    if not isinstance(heater, str) or not PrinterInterface.valid_heater_regex.match(heater):
        raise Rejected("bad arguments: args.heater must be tool<n>, bed or chamber")
    if isinstance(target, bool) or not isinstance(target, (int, float)) or not 0 <= target <= 500:
        raise Rejected("bad arguments: args.target must be a number from 0 to 500")
    _require(s.printer.is_operational(), s.printer)

    def run() -> dict[str, Any]:
        try:
            s.printer.set_temperature(heater, target, tags=TAGS)
        except ValueError as exc:
            raise Failed(str(exc)) from None
        return {"heater": heater, "target": target}
    return run


def home(s: Services, args: dict[str, Any]) -> Action:
    axes = args.get("axes", ["x", "y", "z"])
    if (not isinstance(axes, list) or not axes or len(axes) > 3
            or not all(isinstance(a, str) and a.lower() in ("x", "y", "z") for a in axes)):
        raise Rejected("bad arguments: args.axes must be a list of x, y and z")
    _require(s.printer.is_ready() or s.printer.is_paused(), s.printer)

    def run() -> dict[str, Any]:
        axes_lower = sorted({a.lower() for a in axes})
        s.printer.home(axes_lower, tags=TAGS)
        return {"axes": axes_lower}
    return run


def _connected(s: Services, act: Callable[[], None], ready: Callable[[], bool] = lambda: True) -> Waiter:
    """FINISHED once the printer is operational (and ``ready()``), FAILED on a connection error."""
    return Waiter(done=lambda: ready() and s.printer.is_operational(),
                  failed=lambda: ready() and _error_reason(s.printer) or None,
                  data=lambda: {"state": s.printer.get_state_id()}, act=act)


def connect(s: Services, args: dict[str, Any]) -> Action:
    port, baudrate, profile = args.get("port"), args.get("baudrate"), args.get("profile")
    if port is not None and (not isinstance(port, str) or len(port) > 1024):
        raise Rejected("bad arguments: args.port must be a port name")
    if baudrate is not None and (isinstance(baudrate, bool) or not isinstance(baudrate, int) or baudrate < 0):
        raise Rejected("bad arguments: args.baudrate must be a non-negative integer")
    if profile is not None and (not isinstance(profile, str) or not s.profiles.exists(profile)):
        raise Rejected("bad arguments: args.profile must be the id of a printer profile")
    _require(s.printer.is_closed_or_error(), s.printer)

    def act() -> None:
        try:
            s.printer.connect(port=port, baudrate=baudrate, profile=profile)
        except ValueError as exc:
            raise Failed(str(exc)) from None
    return _connected(s, act)


def disconnect(s: Services, args: dict[str, Any]) -> Action:
    _require(not s.printer.is_closed_or_error() or s.printer.is_error(), s.printer)

    def run() -> dict[str, Any]:
        s.printer.disconnect()
        return {"state": s.printer.get_state_id()}
    return run


def reset(s: Services, args: dict[str, Any]) -> Action:
    """Close the port and open it again with the same settings (which resets most boards)."""
    _, port, baudrate, profile = s.printer.get_current_connection()
    _require(port is not None and not s.printer.is_printing() and not s.printer.is_paused(), s.printer)

    closed = threading.Event()

    def act() -> None:
        s.printer.disconnect()
        closed.set()
        try:
            s.printer.connect(port=port, baudrate=baudrate, profile=(profile or {}).get("id"))
        except ValueError as exc:
            raise Failed(str(exc)) from None
    return _connected(s, act, ready=closed.is_set)


#: command name -> check(services, args) returning the action
COMMANDS: dict[str, Callable[[Services, dict[str, Any]], Action]] = {
    "START_PRINT": start_print, "STOP_PRINT": stop_print, "PAUSE_PRINT": pause_print,
    "RESUME_PRINT": resume_print, "SEND_INFO": send_info, "SEND_FILE_INFO": send_file_info,
    "LIST_FILES": list_files, "GCODE": gcode, "SET_TEMPERATURE": set_temperature, "HOME": home,
    "DELETE_FILE": delete_file, "RESET": reset, "DISCONNECT": disconnect, "CONNECT": connect,
}


def _command_id(message: Any) -> str | int | None:
    """The message's id if it is one we can answer to: a short string or an integer."""
    if not isinstance(message, dict):
        return None
    cid = message.get("id")
    if isinstance(cid, str) and 0 < len(cid) <= MAX_ID_LENGTH:
        return cid
    if isinstance(cid, int) and not isinstance(cid, bool):
        return cid
    return None


class _Accepted(NamedTuple):
    cid: Any
    name: Any
    base: dict[str, Any]
    action: Action
    answer_seq: int | None  # the ACCEPTED's seq


class CommandProcessor:
    """Parses, deduplicates, checks and runs commands on a worker thread of its own."""

    def __init__(self, services: Services, answer: Answer, enabled: bool, wait_sent: WaitSent | None = None) -> None:
        self._services = services
        self._answer = answer
        self._wait_sent = wait_sent
        self.enabled = enabled
        #: a raw payload (check, then run), an accepted command (run), or None (stop)
        self._queue: queue.Queue[bytes | _Accepted | None] = queue.Queue(QUEUE_SIZE)
        self._pending = 0  # queued or running items: the network thread checks itself only at 0
        #: id -> the answers given so far (repeated for a duplicate)
        self._answers: collections.OrderedDict[Any, list[tuple[str, dict[str, Any]]]] = collections.OrderedDict()
        self._waiting: dict[Any, Waiter] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="octohost.mqtt.commands", daemon=True)
        self.received = 0
        self._last_ignored_log = -1.0
        self._ignored_unlogged = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the command being run; commands still queued are dropped."""
        while True:
            try:
                self._queue.put_nowait(None)
                break
            except queue.Full:
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    pass
        if self._thread.is_alive():
            self._thread.join(timeout)

    # -- called from other threads -------------------------------------------------------------

    def submit(self, payload: bytes) -> None:
        """A message arrived (the client's network thread): checked and answered at once if the
        worker is idle, else queued; never blocks."""
        with self._lock:
            idle = self._pending == 0
        item: bytes | _Accepted | None = payload
        if idle:
            item = self._check(payload)
            if item is None:  # answered (REJECTED, repeated) or ignored: nothing to run
                return
        with self._lock:
            self._pending += 1
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            with self._lock:
                self._pending -= 1
            message = self._parse(payload)
            cid = _command_id(message)
            log.warning("MQTT command queue full; refused command %r", cid)
            if cid is not None:
                self._answer("REJECTED", cid, {"reason": "busy: too many commands waiting"})

    def on_event(self, event: str, payload: Any) -> None:
        """A bus event (the bus's thread): settle the commands waiting for one."""
        if self._waiting:
            self._settle(event, payload)

    # -- the worker ----------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            try:
                payload = self._queue.get(timeout=0.25 if self._waiting else None)
            except queue.Empty:
                self._settle(None, None)
                continue
            if payload is None:
                return
            try:
                accepted = self._check(payload) if isinstance(payload, bytes) else payload
                if accepted is not None:
                    self._execute(accepted)
            except Exception:
                log.exception("MQTT command failed unexpectedly")
            finally:
                with self._lock:
                    self._pending -= 1
            if self._waiting:
                self._settle(None, None)

    @staticmethod
    def _parse(payload: bytes) -> Any:
        if len(payload) > MAX_PAYLOAD:
            return None
        try:
            return limits.loads(payload)
        except (ValueError, UnicodeDecodeError):
            return None

    def _ignored(self, why: str) -> None:
        """Log an unanswerable message, at most once a second (a flood must not flood the log)."""
        now = time.monotonic()
        if now - self._last_ignored_log >= 1.0:
            more = f" ({self._ignored_unlogged} more since the last warning)" if self._ignored_unlogged else ""
            log.warning("MQTT command ignored: %s%s", why, more)
            self._last_ignored_log, self._ignored_unlogged = now, 0
        else:
            self._ignored_unlogged += 1

    def _record(self, cid: Any, event: str, data: dict[str, Any]) -> int | None:
        with self._lock:
            answers = self._answers.get(cid)
            if answers is None:
                answers = self._answers[cid] = []
                while len(self._answers) > REMEMBERED_IDS:
                    self._answers.popitem(last=False)
            answers.append((event, data))
        return self._answer(event, cid, data)

    def _check(self, payload: bytes) -> _Accepted | None:
        """Parse, deduplicate and check a message, answering REJECTED (or the earlier answers of a
        repeated id) or ACCEPTED; returns what to run once accepted."""
        self.received += 1
        message = self._parse(payload)
        cid = _command_id(message)
        if cid is None:
            shown = payload[:200].decode("utf-8", "replace")
            if len(payload) > MAX_PAYLOAD:
                self._ignored(f"{len(payload)} bytes (at most {MAX_PAYLOAD})")
            elif not isinstance(message, dict):
                self._ignored(f"not a JSON object: {shown!r}")
            else:
                self._ignored(f"no usable id (a string of 1-{MAX_ID_LENGTH} characters or an integer): {shown!r}")
            return None
        assert isinstance(message, dict)
        with self._lock:
            earlier = list(self._answers.get(cid, ()))
            if earlier:
                self._answers.move_to_end(cid)
        if earlier:
            for event, data in earlier:
                self._answer(event, cid, dict(data, repeated=True))
            return None
        name = message.get("command")
        base = {"command": name if isinstance(name, str) else None}
        args = message.get("args", {})
        if args is None:
            args = {}
        reason = None
        check = COMMANDS.get(name) if isinstance(name, str) else None
        if not self.enabled:
            reason = "commands are off (mqtt.commands)"
        elif check is None:
            reason = f"unknown command {name!r}" if isinstance(name, str) else "bad arguments: command must be a string"
        elif not isinstance(args, dict):
            reason = "bad arguments: args must be an object"
        action = None
        if reason is None:
            try:
                action = check(self._services, args)  # type: ignore[misc]
            except Rejected as exc:
                reason = str(exc)
            except Exception as exc:
                log.exception("checking MQTT command %s failed", name)
                reason = f"cannot check the command: {exc}"
        if reason is not None or action is None:
            self._record(cid, "REJECTED", dict(base, reason=reason))
            return None
        return _Accepted(cid, name, base, action, self._record(cid, "ACCEPTED", base))

    def _execute(self, accepted: _Accepted) -> None:
        """Run an accepted command; answer FINISHED or FAILED (or leave it to its Waiter)."""
        cid, name, base, action, answer_seq = accepted
        if self._wait_sent is not None and answer_seq is not None:
            # The ACCEPTED first: a command's work (a print's start, first-use imports) would otherwise
            # compete with the network thread that sends the answer (farm.py: up to 0.3 s late).
            self._wait_sent(answer_seq, ANSWER_FIRST_TIMEOUT)
        try:
            if isinstance(action, Waiter):
                with self._lock:
                    self._waiting[cid] = action
                if action.act is not None:
                    action.act()
                result: Any = action
            else:
                result = action()
        except Exception as exc:
            with self._lock:
                settled = isinstance(action, Waiter) and self._waiting.pop(cid, None) is None
            if not isinstance(exc, Failed):
                log.exception("MQTT command %s failed", name)
            if not settled:  # (an event may have settled it while the action raised)
                self._record(cid, "FAILED", dict(base, reason=str(exc) or type(exc).__name__))
            return
        if isinstance(result, Waiter):
            self._settle(None, None)
        else:
            self._record(cid, "FINISHED", dict(base, result=result or {}))

    def _settle(self, event: str | None, payload: Any) -> None:
        with self._lock:
            waiting = list(self._waiting.items())
        for cid, waiter in waiting:
            try:
                outcome = waiter.outcome(event, payload)
            except Exception as exc:
                log.exception("checking the outcome of MQTT command %r failed", cid)
                outcome = ("FAILED", {"reason": str(exc)})
            if outcome is None:
                continue
            with self._lock:
                if self._waiting.pop(cid, None) is None:
                    continue  # another thread settled it first
                name = (self._answers.get(cid) or [("", {})])[0][1].get("command")
            event_name, data = outcome
            if event_name == "FINISHED":
                self._record(cid, "FINISHED", {"command": name, "result": data})
            else:
                self._record(cid, "FAILED", dict(data, command=name))
