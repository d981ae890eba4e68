"""Communication states: the ids of the PrinterInterface contract, and the table of allowed moves.

The ids and their texts are part of the PrinterInterface contract: do not rename them.
:class:`StateMachine` holds the current state and is the only way to change it; a change not in
:data:`TRANSITIONS` is refused and logged as an error (refusing keeps the state honest; raising
could stop a running print from a thread nobody watches).
"""

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class State:
    NONE = "NONE"
    OPEN_SERIAL = "OPEN_SERIAL"
    DETECT_SERIAL = "DETECT_SERIAL"
    DETECT_BAUDRATE = "DETECT_BAUDRATE"
    CONNECTING = "CONNECTING"
    OPERATIONAL = "OPERATIONAL"
    STARTING = "STARTING"
    PRINTING = "PRINTING"
    PAUSING = "PAUSING"
    PAUSED = "PAUSED"
    RESUMING = "RESUMING"
    CANCELLING = "CANCELLING"
    FINISHING = "FINISHING"
    CLOSED = "CLOSED"
    ERROR = "ERROR"
    CLOSED_WITH_ERROR = "CLOSED_WITH_ERROR"
    TRANSFERING_FILE = "TRANSFERING_FILE"
    OFFLINE = "OFFLINE"
    UNKNOWN = "UNKNOWN"


STATE_TEXT = {
    State.NONE: "Offline",
    State.OPEN_SERIAL: "Opening serial connection",
    State.DETECT_SERIAL: "Detecting serial connection",
    State.DETECT_BAUDRATE: "Detecting baudrate",
    State.CONNECTING: "Connecting",
    State.OPERATIONAL: "Operational",
    State.STARTING: "Starting",
    State.PRINTING: "Printing",
    State.PAUSING: "Pausing",
    State.PAUSED: "Paused",
    State.RESUMING: "Resuming",
    State.CANCELLING: "Cancelling",
    State.FINISHING: "Finishing",
    State.CLOSED: "Offline",
    State.ERROR: "Error",
    State.CLOSED_WITH_ERROR: "Offline after error",
    State.TRANSFERING_FILE: "Transferring file to SD",
    State.OFFLINE: "Offline",
    State.UNKNOWN: "Unknown State",
}

#: states in which the printer is connected and answering
OPERATIONAL_STATES = frozenset({
    State.OPERATIONAL, State.STARTING, State.PRINTING, State.PAUSING, State.PAUSED, State.RESUMING,
    State.CANCELLING, State.FINISHING, State.TRANSFERING_FILE,
})
#: states in which a job is running (the contract's "printing")
PRINTING_STATES = frozenset({State.STARTING, State.PRINTING, State.RESUMING, State.FINISHING, State.PAUSING,
                             State.CANCELLING})
CLOSED_OR_ERROR_STATES = frozenset({State.NONE, State.CLOSED, State.ERROR, State.CLOSED_WITH_ERROR, State.OFFLINE})
ERROR_STATES = frozenset({State.ERROR, State.CLOSED_WITH_ERROR})

_ENDS = frozenset({State.CLOSED, State.CLOSED_WITH_ERROR, State.ERROR})
#: what a running job may become besides ending: paused, cancelled, finished
_JOB_EXITS = frozenset({State.PAUSED, State.CANCELLING, State.FINISHING}) | _ENDS

#: every state change the comm layer makes, ``from -> {to, ...}``; anything else is a bug.
#: ``close()`` may end every state; ``CONNECTING`` is re-entered when the firmware restarts idle.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.NONE: frozenset({State.OPEN_SERIAL, State.DETECT_SERIAL, State.DETECT_BAUDRATE, State.CLOSED,
                           State.CLOSED_WITH_ERROR}),
    State.OPEN_SERIAL: frozenset({State.CONNECTING, State.CLOSED, State.CLOSED_WITH_ERROR}),
    State.DETECT_SERIAL: frozenset({State.DETECT_BAUDRATE, State.CONNECTING, State.CLOSED, State.CLOSED_WITH_ERROR}),
    State.DETECT_BAUDRATE: frozenset({State.DETECT_SERIAL, State.CONNECTING, State.CLOSED, State.CLOSED_WITH_ERROR}),
    State.CONNECTING: frozenset({State.OPERATIONAL}) | _ENDS,
    State.OPERATIONAL: frozenset({State.STARTING, State.TRANSFERING_FILE, State.CONNECTING}) | _ENDS,
    State.STARTING: frozenset({State.PRINTING}) | _JOB_EXITS,
    State.PRINTING: _JOB_EXITS,
    State.RESUMING: frozenset({State.PRINTING}) | _JOB_EXITS,
    State.PAUSED: frozenset({State.RESUMING, State.PRINTING, State.CANCELLING}) | _ENDS,  # SD jobs resume directly
    State.CANCELLING: frozenset({State.OPERATIONAL}) | _ENDS,
    State.FINISHING: frozenset({State.OPERATIONAL}) | _ENDS,
    State.TRANSFERING_FILE: frozenset({State.OPERATIONAL, State.CONNECTING}) | _ENDS,
    State.ERROR: frozenset({State.CLOSED, State.CLOSED_WITH_ERROR}),
    State.CLOSED_WITH_ERROR: frozenset({State.CLOSED}),  # close() after a failed connect
    State.CLOSED: frozenset(),
}


class StateMachine:
    """The current comm state; :meth:`transition` is the one way to change it.

    ``on_change(state)`` is told about every change, outside the lock, on the thread that made it.
    """

    def __init__(self, on_change: Callable[[str], object]) -> None:
        self.state: str = State.NONE
        self._on_change = on_change
        self._lock = threading.Lock()

    def transition(self, state: str) -> bool:
        """Move to ``state`` if :data:`TRANSITIONS` allows it; True if the state is ``state`` now."""
        with self._lock:
            current = self.state
            if state == current:
                return True
            if state not in TRANSITIONS.get(current, ()):
                log.error("comm state change %s -> %s refused: not in the transition table (a bug; please report it)",
                          current, state)
                return False
            self.state = state
        log.info("comm state: %s -> %s", current, state)
        self._on_change(state)
        return True
