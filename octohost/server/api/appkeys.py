"""The application keys workflow (OctoPrint's bundled appkeys plugin, same URLs).

App side: ``GET /plugin/appkeys/probe`` (204), ``POST /plugin/appkeys/request`` ``{"app", "user"?}``
(201, ``app_token``, ``Location`` to poll), ``GET /plugin/appkeys/request/<app_token>``
(202 pending, 200 ``{"api_key"}``, 404 denied or expired).
User side (logged in): pending requests arrive on the push socket as plugin message
``{"plugin": "appkeys", "data": {"type": "request_access", "app_name", "user_token", "user"}}`` and
are listed by ``GET /plugin/appkeys/pending``; ``POST /plugin/appkeys/decision/<user_token>``
``{"decision": true|false}`` decides (204). ``GET/POST /api/plugin/appkeys`` lists, generates
(``{"command": "generate", "app"}``) and revokes (``{"command": "revoke", "key"}``) keys.
"""

from flask import Blueprint, jsonify, url_for

from octohost.access.appkeys import GRANTED, PENDING, AppKeyError, TooManyRequests

from .util import ApiError, boolean, check, command_body, ctx, identity, json_body, no_content, requires_login, string

blueprint = Blueprint("appkeys", __name__)


@blueprint.route("/plugin/appkeys/probe")
def probe():
    return no_content()


@blueprint.route("/plugin/appkeys/request", methods=["POST"])
def request_key():
    c = ctx()
    data = json_body()
    user = data.get("user")
    try:
        pending = c.appkeys.request(data.get("app"), user)
    except TooManyRequests as exc:
        raise ApiError(429, str(exc)) from None
    except AppKeyError as exc:
        raise ApiError(400, str(exc)) from None
    if c.push is not None:
        c.push.broadcast_plugin("appkeys", {"type": "request_access", "app_name": pending.app,
                                            "user_token": pending.user_token, "user": pending.user_name},
                                user_name=pending.user_name, permission="STATUS")
    response = jsonify({"app_token": pending.app_token})
    response.status_code = 201
    response.headers["Location"] = url_for("appkeys.poll", app_token=pending.app_token, _external=True)
    return response


@blueprint.route("/plugin/appkeys/request/<app_token>")
def poll(app_token):
    state, api_key = ctx().appkeys.poll(app_token)
    if state == PENDING:
        return jsonify({}), 202
    if state == GRANTED:
        return jsonify({"api_key": api_key})
    raise ApiError(404, "No such request (denied, expired or unknown)")


@blueprint.route("/plugin/appkeys/pending")
@requires_login
def pending():
    ident = identity()
    requests = ctx().appkeys.pending_for(ident.user.name, all_users=ident.has("PLUGIN_APPKEYS_ADMIN"))
    return jsonify({"pending": [_pending_record(r) for r in requests]})


def _pending_record(request):
    return {"app_id": request.app, "user_id": request.user_name, "user_token": request.user_token}


@blueprint.route("/plugin/appkeys/decision/<user_token>", methods=["POST"])
@requires_login
def decide(user_token):
    ident = identity()
    approve = boolean(json_body(), "decision")
    check("PLUGIN_APPKEYS_GRANT")  # before the look-up, as OctoPrint: no probing for tokens
    if not ctx().appkeys.decide(user_token, ident.user.name, approve,
                                all_users=ident.has("PLUGIN_APPKEYS_ADMIN")):
        raise ApiError(404, "No such pending request")
    return no_content()


@blueprint.route("/api/plugin/appkeys")
@requires_login
def list_keys():
    ident = identity()
    everyone = ident.has("PLUGIN_APPKEYS_ADMIN")
    keys = ctx().appkeys.keys(None if everyone else ident.user.name)
    # as OctoPrint: the user's undecided requests too, by user token
    waiting = ctx().appkeys.pending_for(ident.user.name)
    return jsonify({"keys": keys, "pending": {r.user_token: _pending_record(r) for r in waiting}})


@blueprint.route("/api/plugin/appkeys", methods=["POST"])
@requires_login
def key_command():
    ident = identity()
    command, data = command_body({"generate": ("app",), "revoke": ("key",)})
    if command == "generate":
        key = ctx().appkeys.generate(ident.user.name, string(data, "app", max_length=200))
        return jsonify({"api_key": key, "app_id": data["app"], "user_id": ident.user.name})
    owner = None if ident.has("PLUGIN_APPKEYS_ADMIN") else ident.user.name
    if not ctx().appkeys.revoke(string(data, "key"), owner):
        raise ApiError(404, "No such key")
    return no_content()
