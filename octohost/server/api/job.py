"""``/api/job``: the current job and its progress; start, cancel, restart, pause/resume/toggle."""

import time

from flask import Blueprint, jsonify

from .util import ApiError, command_body, ctx, identity, no_content, requires

blueprint = Blueprint("job", __name__)

RESTART_WAIT_SECONDS = 10


@blueprint.route("/api/job")
@requires("STATUS")
def job():
    printer = ctx().printer
    data = printer.get_current_data()
    body = {"job": printer.get_current_job(), "progress": data.get("progress", {}),
            "state": printer.get_state_string()}
    error = (data.get("state") or {}).get("error")
    if error:
        body["error"] = error
    return jsonify(body)


def _has_job(printer):
    return bool((printer.get_current_job().get("file") or {}).get("name"))


@blueprint.route("/api/job", methods=["POST"])
@requires("PRINT")
def job_command():
    printer = ctx().printer
    name, data = command_body({"start": (), "cancel": (), "restart": (), "pause": ()})
    user = identity().user.name
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
