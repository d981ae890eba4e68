"""``octoprint.server.util.flask``: request helpers plugins use inside their API handlers."""

import functools


def _identity():
    from flask import g

    return getattr(g, "identity", None)


def ensure_credentials_checked_recently():
    """OctoPrint asks for the password again after a while; octohost's sessions do not track that
    yet, so a logged-in identity passes."""
    identity = _identity()
    if identity is None or identity.user is None:
        from flask import abort

        abort(403)


def require_credentials_checked_recently(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        ensure_credentials_checked_recently()
        return func(*args, **kwargs)

    return wrapper


def no_firstrun_access(func):
    """403 until the first admin exists: octohost refuses every API and plugin request then anyway
    (its before-request check), so the view is left as it is."""
    return func


def firstrun_only_access(func):
    """Only during the first run (OctoPrint's setup wizard steps); 403 afterwards."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from flask import abort

        from octohost.compat import layer

        users = layer.current_component("user_manager")
        if users is None or users.has_users():
            abort(403)
        return func(*args, **kwargs)

    return wrapper


def restricted_access(func):
    """A login needed (a session or an API key), as ``no_firstrun_access`` plus Flask-Login's
    ``login_required``: 403 for anonymous requests."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        identity = _identity()
        if identity is None or identity.anonymous:
            from flask import abort

            abort(403)
        return func(*args, **kwargs)

    return wrapper


def get_json_command_from_request(request, valid_commands):
    """``(command, data, None)`` for a JSON body ``{"command": ..., <parameters>}`` whose command is
    one of ``valid_commands`` (a dict of command to required parameter names); else
    ``(None, None, response)`` with a 400 to return, as OctoPrint's helper."""
    from flask import abort, make_response

    content_type = request.headers.get("Content-Type", "")
    if "application/json" not in content_type:
        abort(400, description="Expected content-type JSON")
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or "command" not in data:
        return None, None, make_response(({"error": "Expected a JSON object with a command"}, 400))
    command = data["command"]
    if command not in valid_commands:
        return None, None, make_response(({"error": "command is invalid"}, 400))
    missing = [p for p in valid_commands[command] or [] if p not in data]
    if missing:
        return None, None, make_response(({"error": f"Mandatory parameters missing: {', '.join(missing)}"}, 400))
    return command, data, None
