"""``/api/machine`` (an octohost addition): driver, status code, errors, reconnection; ``restart``.

GET answers :meth:`octohost.machine.monitor.Machine.describe`; POST ``{"command": "restart"}``
clears status and errors and opens the connection again (409 while a job runs). Both need the
CONNECTION permission, as ``/api/connection`` does.
"""

from flask import Blueprint, jsonify

from octohost.machine.monitor import MachineBusy

from .util import ApiError, command_body, ctx, no_content, requires

blueprint = Blueprint("machine", __name__)


def _machine():
    machine = ctx().machine
    if machine is None:
        raise ApiError(404, "This printer has no machine status (a plugin replaced the printer)")
    return machine


@blueprint.route("/api/machine")
@requires("CONNECTION")
def describe():
    return jsonify(_machine().describe())


@blueprint.route("/api/machine", methods=["POST"])
@requires("CONNECTION")
def command():
    machine = _machine()
    command_body({"restart": ()})
    try:
        machine.restart()
    except MachineBusy as exc:
        raise ApiError(409, str(exc)) from None
    return no_content()
