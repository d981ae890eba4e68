"""Communication states: the ids of the PrinterInterface contract plus transitional ones."""


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
