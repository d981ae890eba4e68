"""The push socket at ``/sockjs``: OctoPrint's Push API over sockjs-tornado.

Messages are ``{"<type>": payload}``: ``connected`` on open; after ``{"auth": "name:session"}``
``history`` first, then ``current`` (coalesced, every half second times the client's
``throttle``), ``event`` and ``plugin``; ``reauthRequired`` when the login ends.

Nothing that produces data ever waits for a client. The hub registers ONE printer callback, so a
terminal line costs the same with twenty clients as with none: lines, messages and temperatures
are collected once and handed to every client in a batch on the half-second tick. Events and
plugin messages only touch a client's own state under a short lock; the IOLoop sends.

A client that stops reading is dropped, and the others never notice: at once when its outbox or
its write buffer fills, and once more than ``server.push.maxQueuedBytes`` have waited for it
(kernel buffers included) for ``server.push.maxQueuedSeconds``.

A client's patterns for terminal lines and messages (``subscribe.state.logs`` and ``.messages``, as
OctoPrint takes them) are client input that costs CPU: they are compiled and matched only on the
hub's one worker thread (:mod:`octohost.util.safematch`, which
releases the GIL and stops at a per-client CPU budget), never on the IOLoop or the printer's
threads. Such a client's ``current`` messages are prepared there and go out through its outbox.
One budget covers both patterns of a client.
"""

import collections
import hashlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from sockjs.tornado import SockJSConnection, SockJSRouter
from tornado.ioloop import PeriodicCallback

from octohost.events import Events
from octohost.plugin.handlers import run_handlers
from octohost.printer.interface import PrinterCallback
from octohost.util import limits
from octohost.util.safematch import Budget, BudgetExhausted, LineFilter, PatternRefused

from . import backlog, sockjs_patch  # noqa: F401  (sockjs_patch patches the transports on import)
from .markings import Markings

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5
OUTBOX_LIMIT = 1000
WRITE_BUFFER_LIMIT = 4 * 1024 * 1024
ACCUMULATE_LIMIT = 300
FILTER_CPU_RATE = 0.02  # CPU seconds per second a client's log pattern may use on average...
FILTER_CPU_BURST = 0.25  # ...and at most at once; a pattern that needs more is switched off
STATUS = "STATUS"
STATE_KINDS = ("logs", "messages")  # what ``subscribe.state`` filters, each by True, False or a pattern
_OFF_TEXT = {"logs": "terminal lines", "messages": "messages"}


class _HubPrinterCallback(PrinterCallback):
    """The hub's one printer callback, on the printer's delivery thread: collect and return."""

    def __init__(self, hub):
        self._hub = hub

    def on_printer_send_initial_data(self, data):
        self._hub.deliver_history(data)

    def on_printer_send_current_data(self, data):
        self._hub.collect_current(data)

    def on_printer_add_log(self, data):
        self._hub.collect("logs", data)

    def on_printer_add_message(self, data):
        self._hub.collect("messages", data)

    def on_printer_add_temperature(self, data):
        self._hub.collect("temps", data)


class PushConnection(SockJSConnection):
    hub = None  # set on the per-hub subclass

    def on_open(self, info):
        self.remote_ip = info.ip
        self.user = None
        self.session_id = None
        self.permissions = frozenset()
        self.throttle = 1
        self._ticks = 0
        self._lock = threading.Lock()
        self._outbox = collections.deque()
        self._held = []
        self._awaiting_history = False
        self._overflow = False
        self._current = None
        self._accumulated = {"logs": [], "messages": [], "temps": []}
        self._history_sequence = {}
        # until the client subscribes, it gets everything (as OctoPrint's socket does)
        self._subscription = {"state": {"logs": True, "messages": True}, "events": True, "plugins": True}
        # the last subscription's state as sent (None: none yet); False: no current and no history
        self._state_requested = None
        self._generation = 0  # a pattern compiled off the loop applies only if no newer subscribe came
        self._patterns_wanted = {}  # kind -> (pattern, generation) waiting to be compiled: the latest only
        self._compile_scheduled = False  # at most one compile task per client; lines wait behind it
        self._filter_budget = Budget(FILTER_CPU_RATE, FILTER_CPU_BURST)
        self._patterns_off = False  # set for good once a pattern used up the budget
        self._filter_pending = False
        self._behind_since = None
        self._buffer_limited = False
        if not self.hub.register(self):
            self.close()
            return
        self._emit("connected", self.hub.connected_payload())

    # -- from any thread -----------------------------------------------------------------------

    def queue(self, message_type, payload):
        """Add a message for this client; until ``history`` arrives after auth, others wait behind it."""
        with self._lock:
            if message_type == "history":
                self._awaiting_history = False
                self._outbox.append((message_type, payload))
                self._outbox.extend(self._held)
                self._held.clear()
            elif self._awaiting_history:
                self._held.append((message_type, payload))
            else:
                self._outbox.append((message_type, payload))
            if len(self._outbox) + len(self._held) > OUTBOX_LIMIT:
                self._overflow = True
        self.hub.schedule_flush()

    def start_after(self, sequence):
        """The ``history`` about to be queued holds everything collected up to ``sequence``: skip it."""
        with self._lock:
            self._current = None
            self._accumulated = {"logs": [], "messages": [], "temps": []}
            self._history_sequence = dict(sequence)

    def take_batch(self, current, batch, first):
        """Add the hub's collection since the last tick (``first``: sequence number of each kind's
        first item) to what this client has not been sent yet."""
        with self._lock:
            self._current = current
            for kind, items in batch.items():
                skip = self._history_sequence.get(kind, 0) - first[kind]
                if skip > 0:
                    items = items[skip:]
                if items:
                    pending = self._accumulated[kind]
                    pending.extend(items)
                    if len(pending) > ACCUMULATE_LIMIT:
                        del pending[:-ACCUMULATE_LIMIT]

    # -- on the IOLoop -------------------------------------------------------------------------

    def flush(self):
        with self._lock:
            overflow, self._overflow = self._overflow, False
            messages = list(self._outbox)
            self._outbox.clear()
        if overflow:
            log.info("push client %s fell too far behind; dropping it", self.remote_ip)
            backlog.cut_off(self)
            return
        for message_type, payload in messages:
            self._emit(message_type, payload)

    def tick(self):
        self._ticks += 1
        if self._ticks % self.throttle:
            return
        rules = self._state_rules()
        if self._filtered_off_loop(rules):
            if not self._filter_pending:  # at most one per client waits for the worker
                self._filter_pending = True
                self.hub.off_loop(self._tick_filtered)
            return
        payload = self._take_current(rules)
        if payload is not None:
            self._emit("current", payload)

    def _tick_filtered(self):
        """``tick`` for a client with a pattern, on the hub's worker thread."""
        try:
            payload = self._take_current(self._state_rules())
        finally:
            self._filter_pending = False
        if payload is not None:
            self.queue("current", payload)

    def _take_current(self, rules):
        """The ``current`` message due now with what accumulated since the last one, or None."""
        with self._lock:
            if self._awaiting_history:
                return None
            current, self._current = self._current, None
            accumulated = self._accumulated
            self._accumulated = {"logs": [], "messages": [], "temps": []}
        if current is None or STATUS not in self.permissions or self._state_requested is False:
            return None
        return self.hub.state_payload(current, self._visible("logs", accumulated["logs"], rules[0]),
                                      self._visible("messages", accumulated["messages"], rules[1]),
                                      accumulated["temps"])

    def send_history(self, data):
        """Queue ``history`` from the printer's initial ``data``; a pattern is applied off this thread."""
        if self._state_requested is False:
            self._release_held()  # no history comes: what waited behind it goes now
            return
        rules = self._state_rules()
        if self._filtered_off_loop(rules):
            self.hub.off_loop(lambda: self.queue("history", self._history_payload(data, self._state_rules())))
        else:
            self.queue("history", self._history_payload(data, rules))

    def _release_held(self):
        with self._lock:
            self._awaiting_history = False
            self._outbox.extend(self._held)
            self._held.clear()
        self.hub.schedule_flush()

    def _history_payload(self, data, rules):
        return self.hub.state_payload(data, self._visible("logs", data.get("logs") or [], rules[0]),
                                      self._visible("messages", data.get("messages") or [], rules[1]),
                                      data.get("temps"))

    def _state_rules(self):
        """(logs rule, messages rule): each True, False or a LineFilter."""
        state = self._subscription["state"]
        return state.get("logs", True), state.get("messages", True)

    def _filtered_off_loop(self, rules):
        """True if lines must go through the worker: a pattern applies, or one is being compiled there."""
        return isinstance(rules[0], LineFilter) or isinstance(rules[1], LineFilter) or self._compile_scheduled

    def _visible(self, kind, lines, rule):
        """The terminal lines (``kind`` "logs") or messages this client subscribed to (MONITOR_TERMINAL only).

        ``rule`` is True, False or a LineFilter; a LineFilter only on the hub's worker thread."""
        if rule is False or "MONITOR_TERMINAL" not in self.permissions:
            return []
        if not isinstance(rule, LineFilter):
            return lines
        try:
            return rule.select(lines, self._filter_budget)
        except BudgetExhausted:
            with self._lock:
                self._patterns_off = True
                if self._subscription["state"].get(kind) is rule:
                    self._subscription["state"][kind] = False
            log.info("push client %s: %s pattern %r used up its CPU budget; switched off", self.remote_ip, kind,
                     rule.pattern)
            self._refuse(kind, f"pattern {rule.pattern!r} took too long to match; {_OFF_TEXT[kind]} are off for "
                               "this connection")
            return []

    def _refuse(self, kind, reason):
        self.queue("error", f"subscribe.state.{kind}: {reason}")

    def check_backlog(self, now, max_bytes, max_seconds):
        """Drop this client once more than ``max_bytes`` waited for it for ``max_seconds``; True if dropped."""
        if backlog.queued_bytes(self.session) <= max_bytes:
            self._behind_since = None
            return False
        if self._behind_since is None:
            self._behind_since = now
        if now - self._behind_since < max_seconds:
            return False
        log.info("push client %s left more than %d bytes unread for %.0f s; dropping it", self.remote_ip,
                 max_bytes, now - self._behind_since)
        backlog.cut_off(self)
        return True

    def _emit(self, message_type, payload):
        if self.is_closed:
            return
        for _identifier, verdict in run_handlers("server.sockjs.emit", self.hub.emit_handlers,
                                                 lambda handler: handler(self, self.user, message_type, payload)):
            if verdict is False:
                return
        if not self._buffer_limited:
            self._buffer_limited = backlog.limit_write_buffer(self.session, WRITE_BUFFER_LIMIT)
        try:
            text = json.dumps({message_type: payload}, separators=(",", ":"), default=str)
        except (TypeError, ValueError):
            log.exception("cannot serialise push message %s", message_type)
            return
        self.send(text)
        queued = getattr(self.session, "send_queue", "")
        if len(queued) > WRITE_BUFFER_LIMIT:
            log.info("push client %s stopped polling; dropping it", self.remote_ip)
            backlog.cut_off(self)

    # -- client messages -----------------------------------------------------------------------

    def on_message(self, text):
        try:
            message = limits.loads(text)  # bounded depth and numbers, as the REST API's bodies
        except (TypeError, ValueError):
            log.debug("push client %s sent invalid or too deeply nested JSON; ignored", self.remote_ip)
            return
        if not isinstance(message, dict):
            return
        if isinstance(message.get("auth"), str):
            self.hub.authenticate(self, message["auth"])
        throttle = message.get("throttle")
        if isinstance(throttle, int) and not isinstance(throttle, bool):
            self.throttle = min(max(throttle, 1), 120)
        if isinstance(message.get("subscribe"), dict):
            self._subscribe(message["subscribe"])

    def _subscribe(self, subscription):
        """OctoPrint's rules: what a subscription leaves out is off (no ``state``: no current data
        and no history; no ``events`` or ``plugins``: none of them); ``state: true`` means terminal
        lines without messages; a value of the wrong type makes the whole subscription ignored. A
        changed state subscription gets a fresh ``history``. Patterns are compiled off the loop."""
        try:
            state = _state_subscription(subscription.get("state", False))
            events = _names_or_all(subscription.get("events", []))
            plugins = _names_or_all(subscription.get("plugins", []))
        except ValueError as exc:
            log.debug("push client %s: subscription ignored (%s)", self.remote_ip, exc)
            return
        schedule = False
        with self._lock:
            self._generation += 1
            changed = state != self._state_requested
            self._state_requested = state
            self._patterns_wanted.clear()
            for kind in STATE_KINDS if state else ():
                if isinstance(state[kind], str):
                    self._patterns_wanted[kind] = (state[kind], self._generation)
                else:
                    self._subscription["state"][kind] = state[kind]
            if self._patterns_wanted:
                schedule, self._compile_scheduled = not self._compile_scheduled, True
            self._subscription["events"] = events
            self._subscription["plugins"] = plugins
        if schedule:
            self.hub.off_loop(self._compile_wanted)
        if state and changed:
            self.hub.request_history(self)

    def _compile_wanted(self):
        """Compile the client's latest patterns (on the worker). A refused one leaves that part of the
        subscription as it was, as OctoPrint ignores an invalid one, and the client hears why.
        Compiling is charged to the client's CPU budget, so a stream of patterns costs no more."""
        with self._lock:
            wanted, self._patterns_wanted = self._patterns_wanted, {}
        try:
            for kind, (pattern, generation) in wanted.items():
                self._use_pattern(kind, pattern, generation)
        finally:
            with self._lock:
                again = bool(self._patterns_wanted)
                self._compile_scheduled = again
            if again:
                self.hub.off_loop(self._compile_wanted)  # behind the other clients' work

    def _use_pattern(self, kind, pattern, generation):
        rule = None
        try:
            if self._patterns_off:
                raise PatternRefused("patterns are off for this connection since one took too long")
            rule = LineFilter(pattern, self._filter_budget)
        except PatternRefused as exc:
            self._refuse(kind, str(exc))
        except BudgetExhausted:
            self._refuse(kind, "too many patterns; CPU budget used up, try again later")
        with self._lock:
            if rule is not None and generation == self._generation:
                self._subscription["state"][kind] = rule

    def wants(self, kind, name):
        rule = self._subscription[kind]
        return rule is True or name in rule

    def set_user(self, user, session_id, permissions):
        """Switch identity; with STATUS, everything waits for the ``history`` message that follows."""
        with self._lock:
            self.user, self.session_id, self.permissions = user, session_id, permissions
            self._awaiting_history = STATUS in permissions
            self._current = None
            self._accumulated = {"logs": [], "messages": [], "temps": []}
            if not self._awaiting_history:
                self._outbox.extend(self._held)
                self._held.clear()

    def on_close(self):
        self.hub.unregister(self)


class PushHub:
    """All push clients of one server, and the fan-out of events, printer data and plugin messages."""

    def __init__(self, context):
        self.context = context
        self._clients = set()
        self._lock = threading.Lock()
        self._loop = None
        self._flush_scheduled = False
        self._ticker = None
        self.last_current = None
        self._collect_lock = threading.Lock()
        self._collected = {"logs": [], "messages": [], "temps": []}
        self._sequence = {"logs": 0, "messages": 0, "temps": 0}  # items collected so far, per kind
        self._collected_current = None
        self._awaiting_history = set()
        self._printer_callback = _HubPrinterCallback(self)
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="octohost-push-filter")  # starts on first use
        self._read_limits()
        self.emit_handlers = context.plugin_manager.handlers("server.sockjs.emit")
        self.router = SockJSRouter(type("BoundPushConnection", (PushConnection,), {"hub": self}), "/sockjs",
                                   {"disconnect_delay": 5, "heartbeat_delay": 15,
                                    "session_check_interval": 5})
        self.markings = Markings(lambda: context.settings.get("temperature.cutoff") * 60)
        context.event_bus.subscribe("*", self.on_event)
        if getattr(context, "timelapse", None) is not None:
            context.timelapse.add_listener(self.broadcast)

    @property
    def urls(self):
        return self.router.urls

    def start(self, loop):
        self._loop = loop
        self._ticker = PeriodicCallback(self._tick, TICK_SECONDS * 1000)
        if self.clients():
            self._ticker.start()
        self.context.printer.register_callback(self._printer_callback)

    def stop(self):
        if self._ticker is not None:
            self._ticker.stop()
        self._worker.shutdown(wait=False, cancel_futures=True)
        self.context.printer.unregister_callback(self._printer_callback)
        self.context.event_bus.unsubscribe("*", self.on_event)
        if getattr(self.context, "timelapse", None) is not None:
            self.context.timelapse.remove_listener(self.broadcast)
        for client in self.clients():
            client.set_user(None, None, frozenset())
            client.close()

    def clients(self):
        with self._lock:
            return list(self._clients)

    # -- membership ----------------------------------------------------------------------------

    def register(self, client):
        for identifier, result in self.context.plugin_manager.call("server.sockjs.register", client, None):
            if result is False:
                log.info("plugin %s refused push client %s", identifier, client.remote_ip)
                return False
        with self._lock:
            self._clients.add(client)
        if self._ticker is not None and not self._ticker.is_running():
            self._ticker.start()  # ticks only while someone listens: an idle server stays asleep
        self.context.event_bus.fire(Events.CLIENT_OPENED, {"remoteAddress": client.remote_ip})
        return True

    def unregister(self, client):
        with self._lock:
            if client not in self._clients:
                return
            self._clients.discard(client)
            self._awaiting_history.discard(client)
            nobody_left = not self._clients
        if nobody_left and self._ticker is not None:
            self._ticker.stop()
        client.set_user(None, None, frozenset())
        self.context.event_bus.fire(Events.CLIENT_CLOSED, {"remoteAddress": client.remote_ip})

    def authenticate(self, client, credentials):
        name, _, session_id = credentials.partition(":")
        session = self.context.sessions.get(session_id)
        user = self.context.user_manager.get_user(name) if session is not None and session.user_name == name else None
        if user is None or not user.active:
            client.queue("reauthRequired", {"reason": "stale"})
            return
        permissions = self.context.permissions.for_user(user)
        client.set_user(user, session_id, permissions)
        self.request_history(client)
        if getattr(self.context, "timelapse", None) is not None:
            client.queue("timelapse", self.context.timelapse.config().as_push())
        self.context.plugin_manager.call("server.sockjs.authed", client, user)
        self.context.event_bus.fire(Events.CLIENT_AUTHED, {"username": user.name, "remoteAddress": client.remote_ip})

    def request_history(self, client):
        """Ask the printer for the initial data that becomes ``client``'s next ``history`` (STATUS only)."""
        if STATUS not in client.permissions:
            return
        with self._lock:
            self._awaiting_history.add(client)
        self.context.printer.send_initial_callback(self._printer_callback)

    def session_ended(self, session_id, reason):
        """A login ended (logout, user removed): its sockets must log in again."""
        for client in self.clients():
            if client.session_id == session_id:
                with self._lock:
                    self._awaiting_history.discard(client)
                client.set_user(None, None, frozenset())
                client.queue("reauthRequired", {"reason": reason})
                self.context.plugin_manager.call("server.sockjs.authed", client, None)

    # -- fan-out -------------------------------------------------------------------------------

    def schedule_flush(self):
        if self._loop is None:
            return
        with self._lock:
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        self._loop.add_callback(self._flush_all)

    def off_loop(self, function):
        """Run ``function`` on the hub's worker thread, in submission order: client patterns run there."""
        try:
            self._worker.submit(_logged, function)
        except RuntimeError:  # stopping
            pass

    def _read_limits(self):
        settings = self.context.settings
        self._max_queued_bytes = settings.get_int("server.push.maxQueuedBytes")
        self._max_queued_seconds = settings.get_float("server.push.maxQueuedSeconds")

    def _flush_all(self):
        with self._lock:
            self._flush_scheduled = False
        for client in self.clients():
            client.flush()

    # -- collected from the printer (its delivery thread) ------------------------------------------

    def collect(self, kind, item):
        with self._collect_lock:
            self._sequence[kind] += 1
            items = self._collected[kind]
            items.append(item)
            if len(items) > 2 * ACCUMULATE_LIMIT:
                del items[:-ACCUMULATE_LIMIT]

    def collect_current(self, data):
        with self._collect_lock:
            self._collected_current = data

    def deliver_history(self, data):
        """Initial data the printer sent for the clients that authenticated since it was asked for."""
        with self._lock:
            waiting, self._awaiting_history = self._awaiting_history, set()
        with self._collect_lock:
            sequence = dict(self._sequence)
        for client in waiting:
            client.start_after(sequence)
            client.send_history(data)

    def _tick(self):
        with self._collect_lock:
            current, self._collected_current = self._collected_current, None
            batch = {kind: items[-ACCUMULATE_LIMIT:] for kind, items in self._collected.items()}
            first = {kind: self._sequence[kind] - len(items) for kind, items in batch.items()}
            self._collected = {"logs": [], "messages": [], "temps": []}
        if current is not None:
            self.last_current = current
        elif any(batch.values()):
            current = self.last_current
        now = time.monotonic()
        for client in self.clients():
            if client.check_backlog(now, self._max_queued_bytes, self._max_queued_seconds):
                continue
            if current is not None:
                client.take_batch(current, batch, first)
            client.tick()

    def on_event(self, event, payload):
        if event == Events.SETTINGS_UPDATED:
            self._read_limits()
        elif event == Events.MACHINE_SNAPSHOT:
            return  # once a second for bridges; clients get MachineStatusChanged and current data
        self.markings.on_event(event, payload)
        for client in self.clients():
            if STATUS in client.permissions and client.wants("events", event):
                client.queue("event", {"type": event, "payload": payload})

    def broadcast(self, message_type, payload):
        """A message of its own type to every authenticated client (``timelapse``, ``renderProgress``)."""
        for client in self.clients():
            if client.user is not None:
                client.queue(message_type, payload)

    def broadcast_plugin(self, plugin, data, user_name=None, permission=None):
        """Send ``{"plugin": {"plugin", "data"}}`` to authenticated clients (optionally one user's)."""
        for client in self.clients():
            if client.user is None or (user_name is not None and client.user.name != user_name):
                continue
            if permission is not None and permission not in client.permissions:
                continue
            if client.wants("plugins", plugin):
                client.queue("plugin", {"plugin": plugin, "data": data})

    # -- payloads ------------------------------------------------------------------------------

    def connected_payload(self):
        c = self.context
        plugins = sorted(f"{p.identifier}:{p.version}" for p in c.plugin_manager.enabled_plugins())
        config = json.dumps(c.settings.get("feature"), sort_keys=True) + json.dumps(c.settings.get("webcam"),
                                                                                   sort_keys=True)
        return {"version": c.version["version"], "display_version": c.version["display_version"],
                "branch": c.version["branch"], "python_version": c.version["python_version"],
                "plugin_hash": hashlib.md5("|".join(plugins).encode()).hexdigest(),
                "config_hash": hashlib.md5(config.encode()).hexdigest(),
                "debug": c.debug, "safe_mode": "flag" if c.safe_mode else None, "online": True,
                "permissions": [p.as_dict() for p in c.permissions.all()]}

    def state_payload(self, data, logs, messages, temps):
        payload = {k: v for k, v in (data or {}).items() if k not in ("logs", "messages", "temps")}
        payload.setdefault("state", {"text": "Offline", "flags": {}})
        payload.setdefault("job", {})
        payload.setdefault("progress", {})
        payload.setdefault("currentZ", None)
        payload.setdefault("offsets", {})
        payload.setdefault("resends", {"count": 0, "transmitted": 0, "ratio": 0})
        payload.setdefault("busyFiles", _busy_files(payload))
        payload.setdefault("plugins", {})
        payload.setdefault("markings", self.markings.snapshot())
        payload.update(logs=list(logs or []), messages=list(messages or []), temps=list(temps or []),
                       serverTime=time.time())
        return payload


def _state_subscription(value):
    """``subscribe.state`` as OctoPrint reads it: False, or {"logs": ..., "messages": ...} of bools and patterns."""
    if isinstance(value, bool):
        return {"logs": True, "messages": False} if value else False
    if not isinstance(value, dict):
        raise ValueError("state must be a boolean or an object")
    state = {kind: value.get(kind, False) for kind in STATE_KINDS}
    if not all(isinstance(rule, bool | str) for rule in state.values()):
        raise ValueError("state.logs and state.messages must each be a boolean or a pattern")
    return state


def _names_or_all(value):
    """``subscribe.events`` or ``.plugins``: True (all), or the set of names (False: none)."""
    if isinstance(value, bool):
        return value or frozenset()
    if not isinstance(value, list):
        raise ValueError("events and plugins must each be a boolean or a list")
    return frozenset(name for name in value if isinstance(name, str))


def _logged(function):
    try:
        function()
    except Exception:
        log.exception("push worker task failed")


def _busy_files(payload):
    """The file being printed (it cannot be changed meanwhile), as OctoPrint lists it."""
    flags = (payload.get("state") or {}).get("flags") or {}
    file = (payload.get("job") or {}).get("file") or {}
    if (flags.get("printing") or flags.get("paused")) and file.get("path"):
        return [{"origin": file.get("origin", "local"), "path": file["path"]}]
    return []
