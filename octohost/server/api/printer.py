"""``/api/printer``: state, temperatures and SD card; tool, bed, chamber, print head, commands.

Everything that talks to the firmware answers 409 while the printer is not operational; the
printer layer validates values (unknown heater, NaN, out-of-volume jog) and its ValueError
becomes a 400 with its message.
"""

import contextlib
import logging
import re

from flask import Blueprint, jsonify, request

from octohost.printer import control
from octohost.printer.feedback import with_keys
from octohost.printer.interface import UnknownScriptException

from ..controls import ControlError, check_controls
from .util import (
    ApiError,
    answers_from_memory,
    boolean,
    command_body,
    ctx,
    json_body,
    no_content,
    number,
    query_int,
    requires,
    string,
)

log = logging.getLogger(__name__)
blueprint = Blueprint("printer", __name__)

HISTORY_LIMIT_MAX = 10000
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _printer(operational=True):
    printer = ctx().printer
    if operational and not printer.is_operational():
        raise ApiError(409, "Printer is not operational")
    return printer


def _tags(endpoint):
    """OctoPrint's tags for commands from the printer API (``source:api``, ``api:printer.<endpoint>``),
    so gcode hooks can tell them apart."""
    return {"source:api", f"api:printer.{endpoint}"}


@contextlib.contextmanager
def _invalid_values():
    try:
        yield
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


def _temperatures(printer, heaters=None):
    """OctoPrint's temperature block, optionally with ``history`` (``?history=true&limit=n``)."""
    current = printer.get_current_temperatures()
    # OctoPrint reports every heater's offset, 0 when none is set; the printer keeps only set ones
    data = {k: (dict(v, offset=v.get("offset") or 0) if isinstance(v, dict) else v)
            for k, v in current.items() if heaters is None or heaters(k)}
    if request.args.get("history", "false").lower() in ("true", "1", "yes"):
        limit = query_int("limit", HISTORY_LIMIT_MAX, 0, 2**31)
        history = printer.get_temperature_history()
        if limit > 0:
            history = history[-limit:]
        data["history"] = [{k: v for k, v in point.items() if k == "time" or heaters is None or heaters(k)}
                           for point in history]
    return data


@blueprint.route("/api/printer")
@answers_from_memory
@requires("STATUS")
def state():
    printer = _printer()
    exclude = {part.strip() for part in request.args.get("exclude", "").split(",") if part.strip()}
    body = {}
    if "temperature" not in exclude:
        body["temperature"] = _temperatures(printer)
    if "sd" not in exclude:
        body["sd"] = {"ready": printer.is_sd_ready()}
    if "state" not in exclude:
        state_data = printer.get_current_data().get("state", {})
        body["state"] = {"text": state_data.get("text", printer.get_state_string()),
                         "flags": state_data.get("flags", {}), "error": state_data.get("error") or ""}
    return jsonify(body)


# -- print head --------------------------------------------------------------------------------


@blueprint.route("/api/printer/printhead", methods=["POST"])
@requires("CONTROL")
def printhead():
    name, data = command_body({"jog": (), "home": ("axes",), "feedrate": ("factor",)})
    printer = _printer()
    with _invalid_values():
        if name == "jog":
            axes = {axis: number(data, axis) for axis in ("x", "y", "z") if axis in data}
            if not axes:
                raise ApiError(400, "jog needs at least one of x, y, z")
            speed = number(data, "speed", minimum=0, required=False)
            printer.jog(axes, relative=not boolean(data, "absolute"), speed=speed, tags=_tags("printhead"))
        elif name == "home":
            axes = data["axes"]
            if not isinstance(axes, list) or not axes or not all(isinstance(a, str) for a in axes):
                raise ApiError(400, "axes must be a non-empty list of x, y, z")
            printer.home(axes, tags=_tags("printhead"))
        else:
            printer.feed_rate(number(data, "factor"), tags=_tags("printhead"))
    return no_content()


# -- tools, bed, chamber -----------------------------------------------------------------------


@blueprint.route("/api/printer/tool")
@answers_from_memory
@requires("STATUS")
def tool_state():
    return jsonify(_temperatures(_printer(), heaters=lambda k: k.startswith("tool")))


@blueprint.route("/api/printer/tool", methods=["POST"])
@requires("CONTROL")
def tool_command():
    name, data = command_body({"target": ("targets",), "offset": ("offsets",), "select": ("tool",),
                               "extrude": ("amount",), "flowrate": ("factor",)})
    printer = _printer()
    with _invalid_values():
        if name == "target":
            targets = _heater_map(data["targets"], "targets")
            profile = ctx().profile_manager.get_current_or_default()
            for heater in targets:
                if not heater.startswith("tool"):
                    raise ApiError(400, f"{heater} is not a tool")
                control.check_heater(heater, profile)
            for heater, value in targets.items():
                printer.set_temperature(heater, value, tags=_tags("tool"))
        elif name == "offset":
            offsets = _heater_map(data["offsets"], "offsets")
            if any(not heater.startswith("tool") for heater in offsets):
                raise ApiError(400, "offsets must name tools (tool0, tool1, ...)")
            printer.set_temperature_offset(offsets)
        elif name == "select":
            printer.change_tool(string(data, "tool", max_length=16), tags=_tags("tool"))
        elif name == "extrude":
            if printer.is_printing() and not printer.is_paused():
                raise ApiError(409, "Cannot extrude while printing")
            printer.extrude(number(data, "amount"), speed=number(data, "speed", minimum=0, required=False),
                            tags=_tags("tool"))
        else:
            printer.flow_rate(number(data, "factor"), tags=_tags("tool"))
    return no_content()


def _heater_map(value, field):
    if not isinstance(value, dict) or not value:
        raise ApiError(400, f"{field} must be an object of heater to number")
    for heater, number_value in value.items():
        number({heater: number_value}, heater)
    return value


def _single_heater(heater, profile_flag):
    def state_view():
        printer = _printer()
        _require_heater(heater, profile_flag)
        return jsonify(_temperatures(printer, heaters=lambda k: k == heater))

    def command_view():
        name, data = command_body({"target": ("target",), "offset": ("offset",)})
        printer = _printer()
        _require_heater(heater, profile_flag)
        with _invalid_values():
            if name == "target":
                printer.set_temperature(heater, number(data, "target"), tags=_tags(heater))
            else:
                printer.set_temperature_offset({heater: number(data, "offset")})
        return no_content()

    return state_view, command_view


def _require_heater(heater, profile_flag):
    profile = ctx().profile_manager.get_current_or_default() or {}
    if not profile.get(profile_flag):
        raise ApiError(409, f"The printer profile has no heated {heater}")


for _heater, _flag in (("bed", "heatedBed"), ("chamber", "heatedChamber")):
    _state_view, _command_view = _single_heater(_heater, _flag)
    blueprint.add_url_rule(f"/api/printer/{_heater}", f"{_heater}_state", requires("STATUS")(_state_view))
    blueprint.add_url_rule(f"/api/printer/{_heater}", f"{_heater}_command", requires("CONTROL")(_command_view),
                           methods=["POST"])


# -- SD card -----------------------------------------------------------------------------------


def _sd_enabled():
    if not ctx().settings.get("feature.sdSupport"):
        raise ApiError(404, "SD support is disabled")


@blueprint.route("/api/printer/sd")
@answers_from_memory
@requires("STATUS")
def sd_state():
    _sd_enabled()
    return jsonify({"ready": _printer(operational=False).is_sd_ready()})


@blueprint.route("/api/printer/sd", methods=["POST"])
@requires("CONTROL")
def sd_command():
    _sd_enabled()
    name, _ = command_body({"init": (), "refresh": (), "release": ()})
    printer = _printer()
    if name == "init":
        printer.init_sd_card(tags=_tags("sd"))
    elif name == "refresh":
        printer.refresh_sd_files(tags=_tags("sd"))
    else:
        if printer.is_printing() or printer.is_paused():
            raise ApiError(409, "Cannot release the SD card while printing")
        printer.release_sd_card(tags=_tags("sd"))
    return no_content()


# -- arbitrary commands ------------------------------------------------------------------------


@blueprint.route("/api/printer/command", methods=["POST"])
@requires("CONTROL")
def send_commands():
    data = json_body()
    printer = _printer()
    if "script" in data:
        name = string(data, "script", max_length=128)
        context = data.get("context", {})
        if not isinstance(context, dict):
            raise ApiError(400, "context must be an object")
        try:
            printer.script(name, context=context)
        except UnknownScriptException as exc:
            raise ApiError(404, str(exc)) from None
        return no_content()
    if "commands" in data:
        commands = data["commands"]
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            raise ApiError(400, "commands must be a list of strings")
    elif "command" in data:
        commands = [string(data, "command", max_length=4096)]
    else:
        raise ApiError(400, "Expected command, commands or script")
    parameters = data.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ApiError(400, "parameters must be an object")
    commands = [_fill_in(c, parameters) for c in commands]
    with _invalid_values():
        printer.commands(commands, tags=_tags("command"))
    return no_content()


def _fill_in(command, parameters):
    """Replace ``{name}`` placeholders with the given parameters (plain substitution, nothing else)."""
    def value(match):
        name = match.group(1)
        if name not in parameters:
            raise ApiError(400, f"no value for the placeholder {{{name}}}")
        return str(parameters[name])

    return PLACEHOLDER.sub(value, command) if parameters else command


@blueprint.route("/api/printer/command/custom")
@requires("CONTROL")
def custom_controls():
    """The ``controls`` setting; a hand-edited one in the wrong shape is logged and shown as none."""
    controls = ctx().settings.get("controls")
    try:
        check_controls(controls)
    except ControlError as exc:
        log.warning("ignoring the controls setting: %s", exc)
        controls = []
    return jsonify({"controls": with_keys(controls)})
