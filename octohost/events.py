"""The event bus: OctoPrint's event names and payloads, delivered off the publisher's thread.

``fire`` only appends to a queue, so the serial loops can publish without waiting for anyone;
one dispatcher thread hands each event to the subscribers in order. A subscriber that raises is
logged and the others still get the event.
"""

import logging
import queue
import threading
import time

log = logging.getLogger(__name__)


class Events:
    # server
    STARTUP = "Startup"
    SHUTDOWN = "Shutdown"
    CONNECTIVITY_CHANGED = "ConnectivityChanged"
    # clients
    CLIENT_OPENED = "ClientOpened"
    CLIENT_AUTHED = "ClientAuthed"
    CLIENT_CLOSED = "ClientClosed"
    USER_LOGGED_IN = "UserLoggedIn"
    USER_LOGGED_OUT = "UserLoggedOut"
    # connection
    CONNECTING = "Connecting"
    CONNECTED = "Connected"
    DISCONNECTING = "Disconnecting"
    DISCONNECTED = "Disconnected"
    PRINTER_STATE_CHANGED = "PrinterStateChanged"
    PRINTER_RESET = "PrinterReset"
    ERROR = "Error"
    FIRMWARE_DATA = "FirmwareData"
    # files
    UPLOAD = "Upload"
    FILE_ADDED = "FileAdded"
    FILE_REMOVED = "FileRemoved"
    FOLDER_ADDED = "FolderAdded"
    FOLDER_REMOVED = "FolderRemoved"
    UPDATED_FILES = "UpdatedFiles"
    METADATA_ANALYSIS_STARTED = "MetadataAnalysisStarted"
    METADATA_ANALYSIS_FINISHED = "MetadataAnalysisFinished"
    METADATA_STATISTICS_UPDATED = "MetadataStatisticsUpdated"
    FILE_SELECTED = "FileSelected"
    FILE_DESELECTED = "FileDeselected"
    TRANSFER_STARTED = "TransferStarted"
    TRANSFER_DONE = "TransferDone"
    TRANSFER_FAILED = "TransferFailed"
    # printing
    PRINT_STARTED = "PrintStarted"
    PRINT_DONE = "PrintDone"
    PRINT_FAILED = "PrintFailed"
    PRINT_CANCELLING = "PrintCancelling"
    PRINT_CANCELLED = "PrintCancelled"
    PRINT_PAUSED = "PrintPaused"
    PRINT_RESUMED = "PrintResumed"
    ERROR_STATE = "Error"
    # gcode
    POWER_ON = "PowerOn"
    POWER_OFF = "PowerOff"
    HOME = "Home"
    Z_CHANGE = "ZChange"
    DWELL = "Dwelling"
    WAITING = "Waiting"
    COOLING = "Cooling"
    ALERT = "Alert"
    CONVEYOR = "Conveyor"
    EJECT = "Eject"
    E_STOP = "EStop"
    POSITION_UPDATE = "PositionUpdate"
    REGISTERED_MESSAGE_RECEIVED = "RegisteredMessageReceived"
    FILAMENT_CHANGE = "FilamentChange"
    TOOL_CHANGE = "ToolChange"
    COMMAND_SUPPRESSED = "CommandSuppressed"
    INVALID_TOOL_REPORTED = "InvalidToolReported"
    # timelapse
    CAPTURE_START = "CaptureStart"
    CAPTURE_DONE = "CaptureDone"
    CAPTURE_FAILED = "CaptureFailed"
    POSTROLL_START = "PostRollStart"
    POSTROLL_END = "PostRollEnd"
    MOVIE_RENDERING = "MovieRendering"
    MOVIE_DONE = "MovieDone"
    MOVIE_FAILED = "MovieFailed"
    # settings, profiles
    SETTINGS_UPDATED = "SettingsUpdated"
    PRINTER_PROFILE_ADDED = "PrinterProfileAdded"
    PRINTER_PROFILE_DELETED = "PrinterProfileDeleted"
    PRINTER_PROFILE_MODIFIED = "PrinterProfileModified"
    # sd card
    PRINTER_SD_CARD_READY = "SdCardReady"  # octohost addition
    # machine status and reconnection (octohost additions, octohost.machine)
    MACHINE_STATUS_CHANGED = "MachineStatusChanged"
    MACHINE_SNAPSHOT = "MachineSnapshot"
    RECONNECT_SCHEDULED = "ReconnectScheduled"
    RECONNECT_ATTEMPT = "ReconnectAttempt"
    # plugins
    PLUGIN_EVENT_PREFIX = "plugin_"

    @classmethod
    def all(cls):
        return sorted({v for k, v in vars(cls).items()
                       if k.isupper() and isinstance(v, str) and k != "PLUGIN_EVENT_PREFIX"})


_STOP = object()


class EventBus:
    """Publish/subscribe with one dispatcher thread; ``subscribe("*", cb)`` gets every event."""

    def __init__(self, plugin_manager=None, queue_size=10000):
        self._subscribers = {}
        self._lock = threading.Lock()
        self._queue = queue.Queue(maxsize=queue_size)
        self._custom = set()
        self._thread = threading.Thread(target=self._run, name="octohost.events", daemon=True)
        self._thread.start()
        if plugin_manager is not None:
            self.register_plugin_events(plugin_manager)

    def register_plugin_events(self, plugin_manager):
        """Custom events from the ``events.register_custom_events`` hook, as ``plugin_<id>_<name>``."""
        for identifier, names in plugin_manager.call("events.register_custom_events"):
            for name in names or []:
                self._custom.add(f"{Events.PLUGIN_EVENT_PREFIX}{identifier}_{name}")
        return sorted(self._custom)

    @property
    def custom_events(self):
        return sorted(self._custom)

    def subscribe(self, event, callback):
        """``callback(event, payload)`` for ``event`` (or ``"*"`` for all)."""
        with self._lock:
            self._subscribers.setdefault(event, []).append(callback)

    def unsubscribe(self, event, callback):
        with self._lock:
            listeners = self._subscribers.get(event, [])
            if callback in listeners:
                listeners.remove(callback)

    def fire(self, event, payload=None):
        """Queue an event; never blocks (a full queue drops the event with a warning)."""
        try:
            self._queue.put_nowait((event, payload, time.time()))
        except queue.Full:
            log.warning("event queue full, dropped %s", event)

    def _run(self):
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if isinstance(item, threading.Event):
                item.set()
                continue
            event, payload, _ = item
            with self._lock:
                listeners = list(self._subscribers.get(event, ())) + list(self._subscribers.get("*", ()))
            for callback in listeners:
                try:
                    callback(event, payload)
                except Exception:
                    log.exception("event subscriber %r raised on %s", callback, event)

    def flush(self, timeout=5.0):
        """Wait until every event queued so far was delivered (for tests and shutdown)."""
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self):
        self._queue.put(_STOP)
        self._thread.join(timeout=5)
