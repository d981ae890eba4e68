"""Every route × {anonymous, read-only, user, admin}: the exact status each role gets.

Requests that a role may make carry deliberately incomplete bodies (or name missing things), so
the table checks the permission gate without changing the shared server's state.
"""

import pytest
import requests

ROLES = ("anonymous", "viewer", "user", "admin")
MULTIPART_WITHOUT_FILE = {"files": {"path": (None, "")}}


def row(method, path, codes, **kwargs):
    """``codes``: one status for everyone, or (anonymous, viewer, user, admin)."""
    if isinstance(codes, int):
        codes = (codes,) * 4
    return pytest.param(method, path, dict(zip(ROLES, codes, strict=True)), kwargs, id=f"{method} {path}")


def needs(permission_holders, allowed_code):
    """Anonymous and roles without the permission 403 (OctoPrint never answers 401), the others
    ``allowed_code``."""
    holders = {"readonly": ("viewer", "user", "admin"), "user": ("user", "admin"), "admin": ("admin",),
               "login": ("viewer", "user", "admin")}[permission_holders]
    return tuple(allowed_code if role in holders else 403 for role in ROLES)


TABLE = [
    row("GET", "/api/version", (403, 200, 200, 200)),
    row("GET", "/api/server", (403, 200, 200, 200)),
    row("GET", "/api/currentuser", 200),
    row("POST", "/api/login", 400, json={}),
    row("POST", "/api/logout", 200),
    row("POST", "/api/setup/admin", 400, json={}),
    row("POST", "/plugin/appkeys/request", 400, json={}),
    row("GET", "/plugin/appkeys/request/missing", 404),
    row("GET", "/plugin/appkeys/probe", 204),
    row("GET", "/sockjs/info", 200),
    row("GET", "/api/settings", needs("readonly", 200)),
    row("POST", "/api/settings", needs("admin", 400), json={"bogus": {"key": 1}}),
    row("GET", "/api/connection", needs("readonly", 200)),
    row("POST", "/api/connection", needs("user", 400), json={}),
    row("GET", "/api/printer", needs("readonly", 409)),
    row("GET", "/api/printer/tool", needs("readonly", 409)),
    row("POST", "/api/printer/tool", needs("user", 400), json={}),
    row("GET", "/api/printer/bed", needs("readonly", 409)),
    row("POST", "/api/printer/bed", needs("user", 400), json={}),
    row("GET", "/api/printer/chamber", needs("readonly", 409)),
    row("POST", "/api/printer/chamber", needs("user", 400), json={}),
    row("POST", "/api/printer/printhead", needs("user", 400), json={}),
    row("GET", "/api/printer/sd", needs("readonly", 200)),
    row("POST", "/api/printer/sd", needs("user", 400), json={}),
    row("POST", "/api/printer/command", needs("user", 409), json={}),
    row("GET", "/api/printer/command/custom", needs("user", 200)),
    row("GET", "/api/job", needs("readonly", 200)),
    row("POST", "/api/job", needs("user", 400), json={}),
    row("DELETE", "/api/job/recovery", needs("user", 404)),
    row("GET", "/api/history", needs("readonly", 200)),
    row("GET", "/api/history/999", needs("readonly", 404)),
    row("GET", "/api/machine", needs("user", 200)),
    row("POST", "/api/machine", needs("user", 400), json={}),
    row("GET", "/metrics", needs("readonly", 200)),
    row("GET", "/plugin/pluginmanager/plugins", needs("admin", 200)),
    row("GET", "/api/setup/wizard", needs("admin", 200)),
    row("POST", "/api/setup/wizard", needs("admin", 400), json={"handled": "x"}),
    row("GET", "/plugin/backup/backup", needs("admin", 200)),
    row("POST", "/plugin/backup/backup", needs("admin", 400), json={"exclude": "x"}),
    row("DELETE", "/plugin/backup/backup/missing.zip", needs("admin", 404)),
    row("POST", "/plugin/backup/restore", needs("admin", 404), json={"path": "missing.zip"}),
    row("GET", "/plugin/backup/download/missing.zip", needs("admin", 404)),
    row("GET", "/api/system/info", needs("admin", 200)),
    row("GET", "/api/mqtt", needs("readonly", 200)),
    row("POST", "/api/mqtt", needs("admin", 400), json={}),
    row("GET", "/downloads/thumbs/local/missing.gcode", needs("readonly", 404)),
    row("GET", "/api/files", needs("readonly", 200)),
    row("GET", "/api/files/local", needs("readonly", 200)),
    row("GET", "/api/files/sdcard", needs("readonly", 200)),
    row("GET", "/api/files/local/missing.gcode", needs("readonly", 404)),
    row("POST", "/api/files/local", needs("user", 400), **MULTIPART_WITHOUT_FILE),
    row("POST", "/api/files/local/missing.gcode", needs("readonly", 400), json={}),
    row("POST", "/api/files/local/missing.gcode", needs("readonly", 404), json={"command": "select"}),
    row("DELETE", "/api/files/local/missing.gcode", needs("user", 404)),
    row("GET", "/downloads/files/local/missing.gcode", needs("readonly", 404)),
    row("GET", "/api/printerprofiles", needs("user", 200)),
    row("GET", "/api/printerprofiles/_default", needs("user", 200)),
    row("POST", "/api/printerprofiles", needs("admin", 400), json={}),
    row("PATCH", "/api/printerprofiles/_default", needs("admin", 400), json={}),
    row("DELETE", "/api/printerprofiles/missing", needs("admin", 204)),
    row("GET", "/api/users", needs("admin", 200)),
    row("POST", "/api/users", needs("admin", 400), json={}),
    row("GET", "/api/access/users", needs("admin", 200)),
    row("POST", "/api/access/users", needs("admin", 400), json={}),
    row("GET", "/api/access/users/user", (403, 403, 200, 200)),
    row("PUT", "/api/access/users/user", needs("admin", 200), json={}),
    row("DELETE", "/api/access/users/missing", needs("admin", 404)),
    row("PUT", "/api/access/users/user/password", (403, 403, 400, 400), json={}),
    row("GET", "/api/access/users/user/settings", (403, 403, 200, 200)),
    row("PATCH", "/api/access/users/missing/settings", (403, 403, 403, 404), json={}),
    row("DELETE", "/api/access/users/missing/apikey", (403, 403, 403, 404)),
    row("POST", "/api/access/users/missing/apikey", (403, 403, 403, 404)),
    row("GET", "/api/users/user", (403, 403, 200, 200)),
    row("PUT", "/api/users/user", needs("admin", 200), json={}),
    row("PATCH", "/api/users/user", needs("admin", 200), json={}),
    row("PATCH", "/api/access/users/user", needs("admin", 200), json={}),
    row("DELETE", "/api/users/missing", needs("admin", 404)),
    row("PUT", "/api/users/user/password", (403, 403, 400, 400), json={}),
    row("GET", "/api/users/user/settings", (403, 403, 200, 200)),
    row("PATCH", "/api/users/missing/settings", (403, 403, 403, 404), json={}),
    row("DELETE", "/api/users/missing/apikey", (403, 403, 403, 404)),
    row("POST", "/api/users/missing/apikey", (403, 403, 403, 404)),
    row("GET", "/api/access/groups", needs("admin", 200)),
    row("GET", "/api/access/permissions", 200),
    row("GET", "/api/system/commands", needs("admin", 200)),
    row("GET", "/api/system/commands/core", needs("admin", 200)),
    row("POST", "/api/system/commands/core/missing", needs("admin", 404)),
    row("GET", "/plugin/appkeys/pending", needs("login", 200)),
    row("POST", "/plugin/appkeys/decision/missing", needs("user", 404), json={"decision": True}),
    row("GET", "/api/plugin/appkeys", needs("login", 200)),
    row("POST", "/api/plugin/appkeys", needs("login", 400), json={}),
    row("GET", "/api/timelapse", needs("readonly", 200)),
    row("POST", "/api/timelapse", needs("user", 200), json={}),
    row("GET", "/api/timelapse/missing.mp4", needs("readonly", 404)),
    row("DELETE", "/api/timelapse/missing.mp4", needs("user", 200)),
    row("POST", "/api/timelapse/unrendered/missing", needs("user", 400), json={}),
    row("DELETE", "/api/timelapse/unrendered/missing", needs("user", 204)),
    row("GET", "/downloads/camera/current", needs("readonly", 404)),
    row("GET", "/downloads/timelapse/missing.mp4", needs("readonly", 404)),
    # OctoPrint plugins' SimpleApi endpoints: an unknown plugin is 404 for everyone (as in OctoPrint)
    row("GET", "/api/plugin/no_such_plugin", (404, 404, 404, 404)),
    row("POST", "/api/plugin/no_such_plugin", (404, 404, 404, 404), json={}),
]


@pytest.mark.parametrize("method,path,expected,kwargs", TABLE)
def test_route_answers_each_role_as_the_table_says(shared_server, method, path, expected, kwargs):
    got = {}
    for role in ROLES:
        headers = {} if role == "anonymous" else {"X-Api-Key": shared_server.keys[role]}
        response = requests.request(method, shared_server.url + path, headers=headers, timeout=30, **kwargs)
        got[role] = response.status_code
        if response.status_code >= 400:
            assert "error" in response.json(), (role, response.text)
    assert got == expected


def test_table_covers_every_flask_route(shared_server):
    app_rules = {(rule.rule, method) for rule in _flask_rules(shared_server) for method in rule.methods
                 if method not in ("HEAD", "OPTIONS") and not rule.build_only}
    covered = set()
    for param in TABLE:
        method, path = param.values[0], param.values[1]
        covered |= {(rule, m) for rule, m in app_rules if m == method and _matches(rule, path)}
    assert app_rules - covered == set()


def _flask_rules(running):
    from octohost.server.api import create_api_app

    return list(create_api_app(running.context).url_map.iter_rules())


def _matches(rule, path):
    import re

    pattern = re.sub(r"<path:[^>]+>", ".+", rule)
    pattern = re.sub(r"<[^>]+>", "[^/]+", pattern)
    return re.fullmatch(pattern, path) is not None
