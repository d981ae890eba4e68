"""``/api/printerprofiles``: list, create (``basedOn``), update (PATCH) and delete printer profiles.

``GET /api/printerprofiles/<id>`` answers the profile itself; a new profile needs ``id`` and
``name`` (400 without). A duplicate id answers 409 (OctoPrint answered 500); invalid fields 400 naming the field; the
default and the connected profile cannot be deleted (409).
"""

import copy

from flask import Blueprint, jsonify, url_for

from octohost.printer.profiles import (
    CouldNotOverwriteError,
    CouldNotRemoveError,
    InvalidProfileError,
    PrinterProfileError,
    SaveError,
    deep_merge,
)

from .util import ApiError, ctx, json_body, no_content, requires

blueprint = Blueprint("profiles", __name__)


def _decorate(profile):
    manager = ctx().profile_manager
    current = manager.get_current()
    out = copy.deepcopy(profile)
    out["default"] = profile["id"] == manager.get_default_id()
    out["current"] = current is not None and current["id"] == profile["id"]
    out["resource"] = url_for("profiles.get_profile", identifier=profile["id"], _external=True)
    return out


def _profile_body():
    data = json_body()
    profile = data.get("profile")
    if not isinstance(profile, dict):
        raise ApiError(400, "Expected a profile object under 'profile'")
    return data, profile


def _errors(exc):
    if isinstance(exc, CouldNotOverwriteError):
        return ApiError(409, str(exc))
    if isinstance(exc, InvalidProfileError):
        return ApiError(400, str(exc))
    if isinstance(exc, SaveError):
        return ApiError(500, str(exc))
    return ApiError(400, str(exc))


@blueprint.route("/api/printerprofiles")
@requires("CONNECTION")
def list_profiles():
    profiles = ctx().profile_manager.get_all()
    return jsonify({"profiles": {identifier: _decorate(p) for identifier, p in profiles.items()}})


@blueprint.route("/api/printerprofiles/<identifier>")
@requires("CONNECTION")
def get_profile(identifier):
    profile = ctx().profile_manager.get(identifier)
    if profile is None:
        raise ApiError(404, f"Unknown printer profile: {identifier}")
    return jsonify(_decorate(profile))  # bare, as OctoPrint (POST and PATCH wrap it in "profile")


@blueprint.route("/api/printerprofiles", methods=["POST"])
@requires("SETTINGS")
def add_profile():
    data, profile = _profile_body()
    manager = ctx().profile_manager
    based_on = data.get("basedOn")
    if based_on is not None:
        base = manager.get(based_on) if isinstance(based_on, str) else None
        if base is None:
            raise ApiError(400, f"Unknown printer profile to base on: {based_on!r}")
        profile = deep_merge({k: v for k, v in base.items() if k not in ("id", "default", "current")}, profile)
    for field in ("id", "name"):  # as OctoPrint: a new profile names its id, nothing is made up
        if not isinstance(profile.get(field), str) or not profile[field]:
            raise ApiError(400, f"profile.{field} is missing")
    try:
        saved = manager.save(profile, allow_overwrite=False, make_default=bool(profile.get("default")))
    except PrinterProfileError as exc:
        raise _errors(exc) from None
    return jsonify({"profile": _decorate(saved)})


@blueprint.route("/api/printerprofiles/<identifier>", methods=["PATCH"])
@requires("SETTINGS")
def update_profile(identifier):
    _, partial = _profile_body()
    manager = ctx().profile_manager
    if manager.get(identifier) is None:
        raise ApiError(404, f"Unknown printer profile: {identifier}")
    make_default = partial.pop("default", None)
    partial.pop("current", None)
    partial.pop("resource", None)
    try:
        saved = manager.update(identifier, partial)
        if make_default is True:
            manager.set_default(identifier)
    except PrinterProfileError as exc:
        raise _errors(exc) from None
    return jsonify({"profile": _decorate(saved)})


@blueprint.route("/api/printerprofiles/<identifier>", methods=["DELETE"])
@requires("SETTINGS")
def delete_profile(identifier):
    # a profile that does not exist answers 204 too, as in OctoPrint: it is gone either way, and a
    # client retrying a delete sees no error
    try:
        ctx().profile_manager.remove(identifier)
    except CouldNotRemoveError as exc:
        raise ApiError(409, str(exc)) from None
    except InvalidProfileError:
        pass
    return no_content()
