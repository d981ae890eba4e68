"""Custom controls (the ``controls`` setting) in OctoPrint's schema, checked before they are used.

A control is a mapping with a ``name`` and one action: ``command`` (one line), ``commands``
(lines) or ``script`` (a GCODE script name), optionally ``confirm`` (a question asked first) and
``input`` (parameters filled into ``{placeholders}``: ``{name, parameter, default}``). A container
has ``children`` (more controls) and optionally ``layout`` and ``collapsed``. Output-only entries
(``regex``/``template``) are kept as they are, for clients that show them.
"""

MAX_DEPTH = 8
LAYOUTS = ("vertical", "horizontal", "horizontal_grid")
ACTIONS = ("command", "commands", "script")


class ControlError(ValueError):
    """The controls are not in the expected shape; the message names the offending entry."""


def _text(entry, key, where, required=False):
    value = entry.get(key)
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        raise ControlError(f"{where}.{key} must be a non-empty string")


def _check_input(value, where):
    if not isinstance(value, list):
        raise ControlError(f"{where}.input must be a list")
    for i, parameter in enumerate(value):
        here = f"{where}.input[{i}]"
        if not isinstance(parameter, dict):
            raise ControlError(f"{here} must be a mapping")
        _text(parameter, "name", here, required=True)
        _text(parameter, "parameter", here, required=True)


def _check_entry(entry, where, depth):
    if not isinstance(entry, dict):
        raise ControlError(f"{where} must be a mapping")
    _text(entry, "name", where)
    if "children" in entry:
        if depth >= MAX_DEPTH:
            raise ControlError(f"{where}: containers nest deeper than {MAX_DEPTH} levels")
        children = entry["children"]
        if not isinstance(children, list):
            raise ControlError(f"{where}.children must be a list")
        if entry.get("layout") is not None and entry["layout"] not in LAYOUTS:
            raise ControlError(f"{where}.layout must be one of {', '.join(LAYOUTS)}")
        for i, child in enumerate(children):
            _check_entry(child, f"{where}.children[{i}]", depth + 1)
        return
    actions = [key for key in ACTIONS if key in entry]
    if len(actions) > 1:
        raise ControlError(f"{where} has more than one of {', '.join(ACTIONS)}")
    if actions == ["commands"]:
        commands = entry["commands"]
        if (not isinstance(commands, list) or not commands
                or not all(isinstance(c, str) and c.strip() for c in commands)):
            raise ControlError(f"{where}.commands must be a non-empty list of strings")
    elif actions:
        _text(entry, actions[0], where, required=True)
    elif "regex" not in entry:
        raise ControlError(f"{where} needs children, one of {', '.join(ACTIONS)}, or regex")
    _text(entry, "confirm", where)
    if "input" in entry:
        _check_input(entry["input"], where)


def check_controls(controls):
    """Return ``controls`` unchanged if valid; raise ControlError naming the first bad entry."""
    if not isinstance(controls, list):
        raise ControlError("controls must be a list")
    for i, entry in enumerate(controls):
        _check_entry(entry, f"controls[{i}]", 1)
    return controls
