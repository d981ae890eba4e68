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
