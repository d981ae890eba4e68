"""The data structures the printer pushes and returns (``state``, ``job``, ``progress``); pure."""

from octohost.comm.states import CLOSED_OR_ERROR_STATES, ERROR_STATES, OPERATIONAL_STATES, PRINTING_STATES, State

#: the contract's state ids for the comm layer's transitional states
_CONTRACT_STATE = {
    State.STARTING: State.PRINTING, State.RESUMING: State.PRINTING, State.FINISHING: State.PRINTING,
    State.PAUSING: State.PRINTING, State.CANCELLING: State.PRINTING,
}

EMPTY_PROGRESS = {"completion": None, "filepos": None, "printTime": None, "printTimeLeft": None,
                  "printTimeLeftOrigin": None}


def contract_state(state):
    """One of the PrinterInterface state ids (transitional states count as PRINTING)."""
    return _CONTRACT_STATE.get(state, state)


def state_flags(state, sd_ready):
    return {
        "operational": state in OPERATIONAL_STATES,
        "printing": state in PRINTING_STATES,
        "cancelling": state == State.CANCELLING,
        "pausing": state == State.PAUSING,
        "resuming": state == State.RESUMING,
        "finishing": state == State.FINISHING,
        "closedOrError": state in CLOSED_OR_ERROR_STATES,
        "error": state in ERROR_STATES,
        "paused": state == State.PAUSED,
        "ready": state == State.OPERATIONAL,
        "sdReady": bool(sd_ready),
    }


def selected_file(path, origin, size=None, display=None, date=None):
    """The ``job.file`` structure."""
    name = path.rsplit("/", 1)[-1] if path else None
    return {"name": name, "path": path, "display": display or name, "origin": origin, "size": size, "date": date}


def job_data(file, details, profile_id, user):
    """``job``: the file plus what analysis and past prints say about it (per printer profile)."""
    analysis = (details or {}).get("gcodeAnalysis") or {}
    statistics = (details or {}).get("statistics") or {}
    return {
        "file": dict(file) if file else selected_file(None, None),
        "estimatedPrintTime": analysis.get("estimatedPrintTime"),
        "averagePrintTime": (statistics.get("averagePrintTime") or {}).get(profile_id),
        "lastPrintTime": (statistics.get("lastPrintTime") or {}).get(profile_id),
        "filament": analysis.get("filament"),
        "user": user,
    }


def progress_data(status, file_size, print_time, estimate):
    """``progress`` from ``MachineCom.get_job_status()``; ``estimate`` is (seconds left, origin)."""
    if not status:
        return dict(EMPTY_PROGRESS)
    size = status.get("size") or file_size
    filepos = status.get("filepos")
    completion = filepos / size * 100.0 if size and filepos is not None else None
    left, origin = estimate
    return {"completion": completion, "filepos": filepos,
            "printTime": int(print_time) if print_time is not None else None,
            "printTimeLeft": int(left) if left is not None else None, "printTimeLeftOrigin": origin}
