"""Version, server info, login/logout, current user and first-run admin creation.

First run: while no user exists, ``POST /api/setup/admin`` with ``{"user", "pass"}`` creates the
first administrator and logs them in (answer as ``/api/login``); afterwards it answers 409.
"""

import datetime
import threading

from flask import Blueprint, jsonify, request

from octohost.access.users import UserError
from octohost.compat import layer as octoprint_layer
from octohost.events import Events

from .access import legacy_roles
from .util import ApiError, answers_from_memory, boolean, checked_password, ctx, deny, identity, json_body, string

blueprint = Blueprint("core", __name__)
_setup_lock = threading.Lock()

CAPABILITIES = {"uploadStreaming": True, "appkeys": True, "sockjs": True, "firstRunSetup": "/api/setup/admin",
                "pluginList": "/plugin/pluginmanager/plugins", "mqtt": "/api/mqtt"}


def _capabilities():
    """The fixed ones, plus history and recovery when the printer keeps them (a plugin printer may not)."""
    capabilities = dict(CAPABILITIES)
    printer = ctx().printer
    if getattr(printer, "history", None) is not None:
        capabilities["printHistory"] = "/api/history"
    if getattr(printer, "recovery", None) is not None:
        capabilities["printRecovery"] = "/api/job/recovery"
    if ctx().machine is not None:
        capabilities["machine"] = "/api/machine"
        capabilities["metrics"] = "/metrics"
    return capabilities


def _status_or_403():
    """Version and server info need STATUS once an account exists, as in OctoPrint 1.11.8: a
    missing or wrong key gets 403 there, which is how clients such as slicers and Home Assistant
    find out that the key they were given does not work. During first run they answer anyone, so
    the UI can find out that setup is needed."""
    if not ctx().first_run and not identity().has("STATUS"):
        deny()


@blueprint.route("/api/version")
@answers_from_memory
def version():
    _status_or_403()
    info = ctx().version
    return jsonify({"api": info["api"], "server": info["octoprint"],
                    "text": f"OctoPrint {info['octoprint']} (octohost {info['version']})",
                    "octohost": info["version"], "capabilities": _capabilities()})


@blueprint.route("/api/server")
@answers_from_memory
def server():
    _status_or_403()
    c = ctx()
    return jsonify({"version": c.version["octoprint"], "octohost": c.version["version"],
                    "safemode": "flag" if c.safe_mode else None, "online": True,
                    "firstRun": c.first_run})


def user_record(user, session=None):
    """The login answer: OctoPrint's user record plus the session key for the push socket.

    ``_credentials_seen`` is when the session began (OctoPrint: when its password was last
    checked; false without a session, as after a login by API key)."""
    c = ctx()
    permissions = sorted(c.permissions.for_user(user))
    record = {"name": user.name, "active": user.active, "admin": "ADMIN" in permissions, "user": True,
              "groups": list(user.groups), "permissions": permissions,
              "needs": c.permissions.needs(user.groups, permissions), "roles": legacy_roles("ADMIN" in permissions),
              "apikey": user.apikey, "settings": user.settings, "_is_external_client": False,
              "_login_mechanism": identity().via or "password", "_credentials_seen": False}
    if session is not None:
        record["session"] = session.id
        record["_credentials_seen"] = datetime.datetime.fromtimestamp(
            session.created, tz=datetime.timezone.utc).replace(microsecond=0).isoformat()
    return record


def start_session(user, mechanism, remember=False):
    """Create a session and answer with the user record, setting the session and CSRF cookies
    (persistent ones with ``remember``, for as long as the session lasts)."""
    c = ctx()
    session = c.sessions.create(user.name, remember=remember)
    record = user_record(user, session)
    record["_login_mechanism"] = mechanism
    response = jsonify(record)
    auth = c.authenticator
    max_age = int(c.sessions.lifetime(session)) if remember else None
    response.set_cookie(auth.session_cookie, session.id, max_age=max_age, httponly=True, samesite="Lax", path="/")
    response.set_cookie(auth.csrf_cookie, session.csrf_token, max_age=max_age, httponly=False, samesite="Strict",
                        path="/")
    c.event_bus.fire(Events.USER_LOGGED_IN, {"username": user.name})
    return response


@blueprint.route("/api/login", methods=["POST"])
def login():
    c = ctx()
    data = json_body()
    if "passive" in data:
        ident = identity()
        if ident.invalid_key:
            deny()
        if not ident.anonymous:
            if ident.session is not None:
                return jsonify(user_record(ident.user, ident.session))
            return start_session(ident.user, ident.via)
        user = c.authenticator.autologin_user(request.remote_addr)
        if user is not None:
            return start_session(user, "autologin")
        return "", 204
    if c.first_run:
        raise ApiError(409, "No user exists yet: create the first admin with POST /api/setup/admin")
    name = string(data, "user", max_length=64)
    password = string(data, "pass", max_length=1024)
    remember = boolean(data, "remember")
    user = checked_password(name, password)
    if user is None:
        raise ApiError(403, "Invalid credentials")
    refusal = octoprint_layer.check_mfa(c.plugin_manager, request, user, data)  # OctoPrint's MfaPlugin
    if refusal is not None:
        return jsonify(refusal), 403
    return start_session(user, "password", remember)


@blueprint.route("/api/logout", methods=["POST"])
def logout():
    c = ctx()
    ident = identity()
    if ident.session is not None:
        c.sessions.remove(ident.session.id)
        c.event_bus.fire(Events.USER_LOGGED_OUT, {"username": ident.user.name})
        if c.push is not None:
            c.push.session_ended(ident.session.id, "logout")
    # OctoPrint answers the record of the anonymous user it is now
    response = jsonify({"needs": c.permissions.needs(["guests"], c.permissions.for_user(None))})
    response.delete_cookie(c.authenticator.session_cookie, path="/")
    response.delete_cookie(c.authenticator.csrf_cookie, path="/")
    return response


@blueprint.route("/api/currentuser")
@answers_from_memory
def current_user():
    ident = identity()
    if ident.invalid_key:
        deny()
    if ident.anonymous:
        return jsonify({"name": None, "groups": ["guests"], "permissions": sorted(ident.permissions)})
    return jsonify({"name": ident.user.name, "groups": list(ident.user.groups),
                    "permissions": sorted(ident.permissions)})


@blueprint.route("/api/setup/admin", methods=["POST"])
def setup_admin():
    c = ctx()
    data = json_body()
    name = string(data, "user", max_length=64)
    password = string(data, "pass", max_length=1024)
    with _setup_lock:
        if not c.first_run:
            raise ApiError(409, "Setup is complete: an account already exists")
        try:
            user = c.user_manager.add_user(name, password, admin=True)
        except UserError as exc:
            raise ApiError(400, str(exc)) from None
    response = start_session(user, "password")
    response.status_code = 201
    return response
