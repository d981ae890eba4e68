"""Users, groups and permissions: ``/api/access/*`` (OctoPrint 1.4+) and the older ``/api/users``.

Admins manage every account; a user may change their own password, settings and API key.
Removing or deactivating a user ends their sessions and revokes their application keys. Changing
a password ends the user's other sessions (API and application keys stay valid, as in OctoPrint).
"""

import json

from flask import Blueprint, jsonify

from octohost.access.permissions import GROUPS
from octohost.access.users import UnknownUser, UserAlreadyExists, UserError

from .util import (
    ApiError,
    boolean,
    check,
    checked_password,
    ctx,
    deny,
    identity,
    json_body,
    no_content,
    requires,
    string,
)

blueprint = Blueprint("access", __name__)

#: a user's UI settings are a few preferences; this bounds users.yaml against a client that piles up keys
MAX_USER_SETTINGS_BYTES = 64 * 1024


def legacy_roles(admin: bool) -> list:
    """OctoPrint's pre-1.4 ``roles`` of a user record, still sent for old clients."""
    return ["user", "admin"] if admin else ["user"]


def _record(user):
    c = ctx()
    permissions = sorted(c.permissions.for_user(user))
    return {"name": user.name, "active": user.active, "admin": "ADMIN" in permissions, "user": True,
            "groups": list(user.groups), "permissions": list(user.permissions),
            "effective_permissions": permissions, "apikey": user.apikey, "settings": user.settings,
            "needs": c.permissions.needs(user.groups, permissions), "roles": legacy_roles("ADMIN" in permissions)}


def _user_or_404(name):
    user = ctx().user_manager.get_user(name)
    if user is None:
        raise ApiError(404, f"Unknown user: {name}")
    return user


def _self_or_admin(name):
    ident = identity()
    if ident.anonymous or (ident.user.name != name and not ident.has("ADMIN")):
        check("ADMIN")


def _groups(data):
    groups = data.get("groups")
    if groups is None:
        return None
    if not isinstance(groups, list) or not all(isinstance(g, str) and g in GROUPS for g in groups):
        raise ApiError(400, f"groups must be a list of: {', '.join(GROUPS)}")
    return groups


def _end_sessions(name, reason, keep=None):
    c = ctx()
    for session_id in c.sessions.remove_user(name, keep=keep):
        if c.push is not None:
            c.push.session_ended(session_id, reason)


def _end_access(name):
    _end_sessions(name, "removed")
    ctx().appkeys.revoke_user(name)


@blueprint.route("/api/access/permissions")
def permissions():
    """Public, as in OctoPrint (its login page reads the list); an unknown key is still refused."""
    if identity().invalid_key:
        deny()
    return jsonify({"permissions": [p.as_dict() for p in ctx().permissions.all()]})


@blueprint.route("/api/access/groups")
@requires("ADMIN")
def groups():
    return jsonify({"groups": ctx().permissions.groups()})


@blueprint.route("/api/users")
@blueprint.route("/api/access/users")
@requires("ADMIN")
def list_users():
    return jsonify({"users": [_record(u) for u in ctx().user_manager.list_users()]})


@blueprint.route("/api/users", methods=["POST"])
@blueprint.route("/api/access/users", methods=["POST"])
@requires("ADMIN")
def add_user():
    data = json_body()
    name = string(data, "name", max_length=64)
    password = string(data, "password")
    groups = _groups(data)
    admin = boolean(data, "admin")
    active = boolean(data, "active", default=True)
    try:
        ctx().user_manager.add_user(name, password, admin=admin, groups=groups, active=active)
    except UserAlreadyExists as exc:
        raise ApiError(409, str(exc)) from None
    except UserError as exc:
        raise ApiError(400, str(exc)) from None
    return list_users()


@blueprint.route("/api/users/<name>")
@blueprint.route("/api/access/users/<name>")
def get_user(name):
    _self_or_admin(name)
    return jsonify(_record(_user_or_404(name)))


@blueprint.route("/api/users/<name>", methods=["PUT", "PATCH"])
@blueprint.route("/api/access/users/<name>", methods=["PUT", "PATCH"])
@requires("ADMIN")
def update_user(name):
    data = json_body()
    _user_or_404(name)
    groups = _groups(data)
    if "admin" in data and groups is None:
        current = _user_or_404(name).groups
        groups = sorted(set(current) | {"admins"}) if boolean(data, "admin") else [g for g in current if g != "admins"]
    active = boolean(data, "active") if "active" in data else None
    if name == identity().user.name and (active is False or (groups is not None and "admins" not in groups)):
        raise ApiError(409, "You cannot deactivate or demote yourself")
    user = ctx().user_manager.update_user(name, groups=groups, active=active)
    if active is False:
        _end_access(name)
    return jsonify(_record(user))


@blueprint.route("/api/users/<name>", methods=["DELETE"])
@blueprint.route("/api/access/users/<name>", methods=["DELETE"])
@requires("ADMIN")
def delete_user(name):
    if name == identity().user.name:
        raise ApiError(409, "You cannot delete yourself")
    try:
        ctx().user_manager.remove_user(name)
    except UnknownUser as exc:
        raise ApiError(404, str(exc)) from None
    _end_access(name)
    return list_users()


@blueprint.route("/api/users/<name>/password", methods=["PUT"])
@blueprint.route("/api/access/users/<name>/password", methods=["PUT"])
def change_password(name):
    _self_or_admin(name)
    data = json_body()
    password = string(data, "password")
    _user_or_404(name)
    ident = identity()
    if ident.user.name == name and not ident.has("ADMIN"):
        if checked_password(name, string(data, "current")) is None:
            raise ApiError(403, "Current password is wrong")
    try:
        ctx().user_manager.change_password(name, password)
    except UserError as exc:
        raise ApiError(400, str(exc)) from None
    own_session = ident.session.id if ident.session is not None and ident.user.name == name else None
    _end_sessions(name, "modified", keep=own_session)
    return no_content()


@blueprint.route("/api/users/<name>/settings")
@blueprint.route("/api/access/users/<name>/settings")
def get_user_settings(name):
    _self_or_admin(name)
    return jsonify(_user_or_404(name).settings)


@blueprint.route("/api/users/<name>/settings", methods=["PATCH"])
@blueprint.route("/api/access/users/<name>/settings", methods=["PATCH"])
def update_user_settings(name):
    _self_or_admin(name)
    data = json_body()
    settings = dict(_user_or_404(name).settings)
    settings.update(data)
    if len(json.dumps(settings)) > MAX_USER_SETTINGS_BYTES:
        raise ApiError(400, f"A user's settings may take at most {MAX_USER_SETTINGS_BYTES} bytes as JSON")
    ctx().user_manager.update_user(name, settings=settings)
    return no_content()


@blueprint.route("/api/users/<name>/apikey", methods=["POST"])
@blueprint.route("/api/access/users/<name>/apikey", methods=["POST"])
def generate_apikey(name):
    _self_or_admin(name)
    _user_or_404(name)
    return jsonify({"apikey": ctx().user_manager.generate_api_key(name)})


@blueprint.route("/api/users/<name>/apikey", methods=["DELETE"])
@blueprint.route("/api/access/users/<name>/apikey", methods=["DELETE"])
def delete_apikey(name):
    _self_or_admin(name)
    _user_or_404(name)
    ctx().user_manager.delete_api_key(name)
    return no_content()
