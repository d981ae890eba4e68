"""``/api/plugin/<id>``: the SimpleApiPlugin endpoints of OctoPrint plugins, as OctoPrint routes them.

``GET`` answers the plugin's ``on_api_get(request)``; ``POST`` ``{"command": ..., fields}`` is
checked against ``get_api_commands()`` (name -> required fields) and answered by
``on_api_command(command, data)``. A plugin that returns None answers 204. ``is_api_protected()``
(the default) needs a logged-in user, ``is_api_adminonly()`` an admin.
"""

import logging

from flask import Blueprint, make_response, request
from werkzeug.exceptions import HTTPException

from octohost.compat.layer import octoprint_plugins

from .util import ApiError, ctx, deny, identity, json_body

log = logging.getLogger(__name__)

blueprint = Blueprint("pluginapi", __name__)


def _api_plugin(identifier):
    from octoprint.plugin import SimpleApiPlugin

    for info in octoprint_plugins(ctx().plugin_manager):
        if info.identifier == identifier and isinstance(info.implementation, SimpleApiPlugin):
            return info
    raise ApiError(404, f"No API plugin {identifier!r}")


def _check_access(info):
    impl = info.implementation
    ident = identity()
    if impl.is_api_protected() and ident.anonymous:
        deny()
    if impl.is_api_adminonly() and not ident.has("ADMIN"):
        deny()


def _answer(info, method, *args):
    try:
        result = getattr(info.implementation, method)(*args)
    except (ApiError, HTTPException):  # the plugin's own flask.abort(403) and the like
        raise
    except Exception:
        log.exception("plugin %s raised in %s()", info.identifier, method)
        raise ApiError(500, f"Plugin {info.identifier} failed to answer") from None
    if result is None:
        return "", 204
    return make_response(result)


@blueprint.route("/api/plugin/<identifier>")
def plugin_get(identifier):
    info = _api_plugin(identifier)
    _check_access(info)
    return _answer(info, "on_api_get", request)


@blueprint.route("/api/plugin/<identifier>", methods=["POST"])
def plugin_command(identifier):
    info = _api_plugin(identifier)
    _check_access(info)
    commands = info.implementation.get_api_commands()
    if not commands:
        raise ApiError(405, f"Plugin {identifier} takes no commands")
    data = json_body()
    command = data.get("command")
    if not isinstance(command, str) or command not in commands:
        raise ApiError(400, f"command must be one of {', '.join(sorted(commands))}")
    missing = [field for field in commands[command] or () if field not in data]
    if missing:
        raise ApiError(400, f"command {command} needs {', '.join(missing)}")
    return _answer(info, "on_api_command", command, data)


# -- /api/setup/wizard: OctoPrint plugins' WizardPlugin --------------------------------------------


def _wizard_plugins():
    from octoprint.plugin import WizardPlugin

    return [info for info in octoprint_plugins(ctx().plugin_manager) if isinstance(info.implementation, WizardPlugin)]


@blueprint.route("/api/setup/wizard")
def wizard_state():
    """``{identifier: {required, details, version, ignored}}`` of each wizard plugin (admins only:
    octohost's first run is the admin account alone)."""
    from octoprint.plugin import WizardPlugin

    if not identity().has("ADMIN"):
        deny()
    seen = ctx().settings.get("server.seenWizards") or {}
    result = {}
    for info in _wizard_plugins():
        impl = info.implementation
        try:
            result[info.identifier] = {"required": bool(impl.is_wizard_required()),
                                       "details": impl.get_wizard_details(), "version": impl.get_wizard_version(),
                                       "ignored": WizardPlugin.is_wizard_ignored(seen, impl)}
        except Exception:
            log.exception("plugin %s: fetching its wizard details failed; left out", info.identifier)
    return result


@blueprint.route("/api/setup/wizard", methods=["POST"])
def wizard_finish():
    """``{"handled": [identifier, ...]}``: ``on_wizard_finish(handled)`` for every wizard plugin,
    and the handled ones' versions remembered in ``server.seenWizards``."""
    if not identity().has("ADMIN"):
        deny()
    handled = json_body().get("handled")
    if not isinstance(handled, list) or not all(isinstance(name, str) for name in handled):
        raise ApiError(400, "handled must be a list of plugin identifiers")
    seen = dict(ctx().settings.get("server.seenWizards") or {})
    for info in _wizard_plugins():
        impl = info.implementation
        try:
            impl.on_wizard_finish(info.identifier in handled)
            if info.identifier in handled:
                seen[info.identifier] = impl.get_wizard_version()
        except Exception:
            log.exception("plugin %s: finishing its wizard failed; ignored", info.identifier)
    ctx().settings.set("server.seenWizards", seen)
    return "", 204
