"""``octoprint.plugin.softwareupdate.check_config``: accepted, and shown, but nothing is checked.

OctoPrint's bundled Software Update plugin asks every plugin for its update check (a GitHub
release, a PyPI version, ...) through this hook and fetches the remote versions. octohost makes no
outside calls on its own and updates plugins the way it installs them, with pip, so it collects the
checks and answers ``GET /plugin/softwareupdate/check`` in OctoPrint's shape with each plugin's
local version and ``updateAvailable`` false: clients that list the configured checks keep working.
"""

import logging

log = logging.getLogger(__name__)

HOOK = "octoprint.plugin.softwareupdate.check_config"
NOT_CHECKED = "octohost does not check for updates (it makes no outside calls); update plugins with pip"
_JSON = (str, int, float, bool, type(None))


def _plain(value, depth=0):
    """The JSON-safe part of a check config (they may hold callables: version comparators)."""
    if depth > 8:
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items() if not callable(v)}
    if isinstance(value, (list, tuple)):
        return [_plain(v, depth + 1) for v in value]
    return value if isinstance(value, _JSON) else None


def configured_checks(manager):
    """``{target: check config}`` from every handler of the hook (a handler that raises or answers
    something else than a dict is logged and skipped)."""
    checks = {}
    for identifier, handler in manager.handlers(HOOK):
        try:
            result = handler()
        except Exception:
            log.exception("plugin %s raised in its %s handler; its checks are skipped", identifier, HOOK)
            continue
        if not isinstance(result, dict):
            log.warning("plugin %s answered %s with %r, not a dict; skipped", identifier, HOOK, type(result).__name__)
            continue
        for target, config in result.items():
            if isinstance(config, dict):
                checks[str(target)] = config
    return checks


def check_response(manager):
    """The body of ``GET /plugin/softwareupdate/check``, as OctoPrint shapes it."""
    information = {}
    for target, config in configured_checks(manager).items():
        local = config.get("displayVersion") or config.get("current")
        local = str(local) if local is not None else "unknown"
        information[target] = {
            "check": _plain(config),
            "displayName": str(config.get("displayName") or target),
            "displayVersion": local,
            "information": {"local": {"name": local, "value": local}, "remote": {"name": "-", "value": "-"}},
            "updateAvailable": False,
            "updatePossible": False,
            "online": False,
            "error": NOT_CHECKED,
        }
    return {"status": "current", "information": information, "timestamp": None,
            "environment": {"supported": True, "versions": []}, "storage": {"sufficient": True, "free": []}}


def register(app, manager):
    """``GET /plugin/softwareupdate/check`` on the API's Flask app (a login needed, as in OctoPrint)."""
    import flask

    def check():
        identity = getattr(flask.g, "identity", None)
        if identity is None or identity.anonymous:
            flask.abort(403)
        return flask.jsonify(check_response(manager))

    app.add_url_rule("/plugin/softwareupdate/check", "octoprint_softwareupdate_check", check, methods=["GET"])
