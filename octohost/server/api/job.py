"""``/api/job``: the current job and its progress; start, cancel, restart, pause/resume/toggle.

Print recovery: while nothing prints, a job that did not end cleanly (host stopped, printer lost)
shows as ``recovery`` in ``GET /api/job`` (file, position, completion at that position, date,
reason). ``{"command": "recover"}`` selects that file and prints it from the recorded position;
``DELETE /api/job/recovery`` dismisses it.
"""

import time

from flask import Blueprint, jsonify

from octohost.files.errors import StorageError
from octohost.printer.interface import InvalidFileLocation, InvalidFileType

from .util import ApiError, after_job_writes, answers_from_memory, command_body, ctx, identity, no_content, requires

blueprint = Blueprint("job", __name__)

RESTART_WAIT_SECONDS = 10


@blueprint.route("/api/job")
@answers_from_memory(while_=lambda context: _from_memory(context.printer))
@requires("STATUS")
def job():
    printer = ctx().printer
    data = printer.get_current_data()
    body = {"job": printer.get_current_job(), "progress": data.get("progress", {}),
            "state": printer.get_state_string()}
    error = (data.get("state") or {}).get("error")
    if error:
        body["error"] = error
    recovery = _recovery(printer)
    if recovery is not None:
        body["recovery"] = recovery
    return jsonify(body)


def _job_running(printer):
    return printer.is_printing() or printer.is_paused()


def _from_memory(printer):
    """Whether ``GET /api/job`` answers from memory: while a job prints or is paused (no recovery
    is shown), or while octohost's recovery store holds no record (it answers that from memory).
    With a record the view reads the file's entry and waits for a job's last writes: a worker
    answers. A record appearing between this check on the loop and the view's own costs that
    one answer the wait on the loop, at most ``JOB_WRITES_WAIT_SECONDS``."""
    if _job_running(printer):
        return True
    store = getattr(printer, "recovery", None)
    return store is not None and store.get_recovery_data() is None


def _recovery(printer):
    """The interrupted job as the UI shows it, or None (also while a job is running)."""
    if _job_running(printer):
        return None
    data = printer.get_recovery_data()
    if data:
        data = after_job_writes(printer, printer.get_recovery_data)
    if not data:
        return None
    path, origin, pos = data["path"], data.get("origin", "local"), data["pos"]
    size = None
    if origin == "local":
        try:
            entry = ctx().file_manager.get_file(path)
        except StorageError:
            entry = None
        if entry is None:
            return None
        size = entry.get("size")
    completion = 100.0 * pos / size if size else None
    return {"file": {"name": path.rsplit("/", 1)[-1], "path": path, "origin": origin, "size": size},
            "pos": pos, "completion": completion, "date": data.get("date"), "reason": data.get("reason")}


def _recovery_store(printer):
    store = getattr(printer, "recovery", None)
    if store is None:
        raise ApiError(404, "This printer keeps no recovery data")
    return store


@blueprint.route("/api/job/recovery", methods=["DELETE"])
@requires("PRINT")
def dismiss_recovery():
    store = _recovery_store(ctx().printer)
    if store.get_recovery_data() is None:
        raise ApiError(404, "There is no interrupted print to dismiss")
    store.clear()
    return no_content()


def _has_job(printer):
    return bool((printer.get_current_job().get("file") or {}).get("name"))


@blueprint.route("/api/job", methods=["POST"])
@requires("PRINT")
def job_command():
    printer = ctx().printer
    name, data = command_body({"start": (), "cancel": (), "restart": (), "pause": (), "recover": ()})
    user = identity().user.name
    if name == "recover":
        return _recover(printer, user)
    if name == "start":
        if not printer.is_ready():
            raise ApiError(409, "Printer is not ready to start a print (not connected, or busy)")
        if not _has_job(printer):
            raise ApiError(409, "No file is selected for printing")
        if not printer.start_print(user=user):
            raise ApiError(409, "The print could not be started")
        return no_content()
    if name == "cancel":
        if not (printer.is_printing() or printer.is_paused()):
            raise ApiError(409, "No print job is running")
        printer.cancel_print()
        return no_content()
    if name == "restart":
        if not printer.is_paused():
            raise ApiError(409, "Only a paused print can be restarted")
        printer.cancel_print()
        deadline = time.monotonic() + RESTART_WAIT_SECONDS
        while not printer.is_ready() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not printer.start_print(user=user):
            raise ApiError(409, "The print could not be restarted")
        return no_content()
    action = data.get("action", "toggle")
    if action not in ("pause", "resume", "toggle"):
        raise ApiError(400, "action must be pause, resume or toggle")
    if action == "pause" or (action == "toggle" and printer.is_printing() and not printer.is_paused()):
        if not printer.is_printing() or printer.is_paused():
            raise ApiError(409, "No print job is running")
        printer.pause_print()
    else:
        if not printer.is_paused():
            raise ApiError(409, "The print job is not paused")
        printer.resume_print()
    return no_content()


def _recover(printer, user):
    if not printer.is_ready():
        raise ApiError(409, "Printer is not ready to start a print (not connected, or busy)")
    recovery = _recovery(printer)
    if recovery is None:
        raise ApiError(409, "There is no interrupted print to resume")
    file = recovery["file"]
    try:
        started = printer.select_file(file["path"], file["origin"] == "sdcard", printAfterSelect=True,
                                      pos=recovery["pos"], user=user)
    except (InvalidFileLocation, InvalidFileType) as exc:
        raise ApiError(409, f"The interrupted print cannot be resumed: {exc}") from None
    if not started:
        raise ApiError(409, "The print could not be resumed")
    return no_content()
