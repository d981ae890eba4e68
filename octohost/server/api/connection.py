"""``/api/connection``: connection state and options; connect, disconnect, fake_ack."""

from flask import Blueprint, jsonify

from .util import ApiError, boolean, command_body, ctx, no_content, requires

blueprint = Blueprint("connection", __name__)


@blueprint.route("/api/connection")
@requires("STATUS")  # reading the state is STATUS in OctoPrint; CONNECTION is for changing it
def state():
    printer = ctx().printer
    text, port, baudrate, profile = printer.get_current_connection()
    return jsonify({"current": {"state": text, "port": port, "baudrate": baudrate,
                                "printerProfile": (profile or {}).get("id") if port else "_default"},
                    "options": _options(printer)})


def _options(printer):
    """The printer's connection options; "automatic" baud rate is null, as OctoPrint has it (0 here)."""
    options = dict(printer.get_connection_options())
    if not options.get("baudratePreference"):
        options["baudratePreference"] = None
    return options


@blueprint.route("/api/connection", methods=["POST"])
@requires("CONNECTION")
def command():
    printer = ctx().printer
    name, data = command_body({"connect": (), "disconnect": (), "fake_ack": ()})
    if name == "disconnect":
        printer.disconnect()
        return no_content()
    if name == "fake_ack":
        printer.fake_ack()
        return no_content()
    port, baudrate, profile = data.get("port"), data.get("baudrate"), data.get("printerProfile")
    if port is not None and (not isinstance(port, str) or not port or len(port) > 512):
        raise ApiError(400, "port must be a non-empty string")
    if port is not None and port != "AUTO" and "://" not in port \
            and port not in printer.get_connection_options()["ports"]:
        # as OctoPrint: a port that is not offered is refused now, not failed later; network
        # serial bridges (socket://, rfc2217://) are never listed and stay allowed (octohost's)
        raise ApiError(400, f"port is not one of the offered ports: {port!r}")
    if baudrate is not None and (isinstance(baudrate, bool) or not isinstance(baudrate, int) or baudrate < 0):
        raise ApiError(400, "baudrate must be a non-negative integer")
    if profile is not None and (not isinstance(profile, str) or not ctx().profile_manager.exists(profile)):
        raise ApiError(400, f"Unknown printer profile: {profile!r}")
    save, autoconnect = boolean(data, "save"), data.get("autoconnect")
    if autoconnect is not None and not isinstance(autoconnect, bool):
        raise ApiError(400, "autoconnect must be a boolean")
    try:
        printer.connect(port=port, baudrate=baudrate, profile=profile)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None
    changes = []
    if save:
        changes += [("serial.port", port), ("serial.baudrate", baudrate if baudrate is not None else 0)]
        if profile is not None:
            ctx().profile_manager.set_default(profile)
    if autoconnect is not None:
        changes.append(("serial.autoconnect", autoconnect))
    if changes:
        ctx().settings.update(changes)
    return no_content()
