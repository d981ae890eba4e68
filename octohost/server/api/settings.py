"""``/api/settings``: read the effective settings; admins change them with a partial tree.

Holders of SETTINGS_READ see the printer-facing sections; holders of SETTINGS see everything but
the session secret. A POST is validated as a whole before anything is stored, so a bad value
changes nothing. The webcam keys also answer under OctoPrint's names (``streamUrl``,
``snapshotUrl``) so existing clients find them.
"""

from flask import Blueprint, jsonify

from octohost.events import Events
from octohost.settings import SettingsError, schema
from octohost.settings.store import check_value

from .util import ApiError, ctx, identity, json_body, requires

blueprint = Blueprint("settings", __name__)

PUBLIC_SECTIONS = ("serial", "temperature", "webcam", "feature", "appearance", "printerProfiles")
WRITABLE_SECTIONS = PUBLIC_SECTIONS + ("api", "accessControl", "events", "plugins")
HIDDEN = (("server", "secretKey"),)
WEBCAM_ALIASES = {"streamUrl": "stream", "snapshotUrl": "snapshot"}


def _visible_tree():
    tree = ctx().settings.effective()
    if not identity().has("SETTINGS"):
        return {k: v for k, v in tree.items() if k in PUBLIC_SECTIONS}
    for section, key in HIDDEN:
        tree.get(section, {}).pop(key, None)
    return tree


@blueprint.route("/api/settings")
@requires("SETTINGS_READ")
def get_settings():
    tree = _visible_tree()
    webcam = tree.get("webcam")
    if webcam is not None:
        for alias, key in WEBCAM_ALIASES.items():
            webcam[alias] = webcam[key]
        webcam["webcamEnabled"] = bool(webcam["stream"])
    return jsonify(tree)


def _leaves(tree, prefix=()):
    """(path, value) of every leaf; plugin settings are free-form and set key by key."""
    for key, value in tree.items():
        path = prefix + (str(key),)
        if isinstance(value, dict) and (path[0] == "plugins" or not _is_leaf(path)):
            yield from _leaves(value, path)
        else:
            yield path, value


def _is_leaf(path):
    try:
        node = schema.lookup(path)
    except KeyError:
        return True
    return isinstance(node, schema.Setting)


@blueprint.route("/api/settings", methods=["POST"])
@requires("SETTINGS")
def save_settings():
    data = json_body()
    webcam = data.get("webcam")
    if isinstance(webcam, dict):
        webcam.pop("webcamEnabled", None)
        for alias, key in WEBCAM_ALIASES.items():
            if alias in webcam:
                webcam.setdefault(key, webcam.pop(alias))
    changes = []
    for path, value in _leaves(data):
        if path[0] not in WRITABLE_SECTIONS:
            raise ApiError(400, f"settings section {path[0]!r} cannot be changed through the API")
        try:
            changes.append((path, check_value(path, value, where="request")))
        except SettingsError as exc:
            raise ApiError(400, str(exc)) from None
    settings = ctx().settings
    for path, value in changes:
        settings.set(path, value, save=False)
    if changes:
        settings.save()
        ctx().event_bus.fire(Events.SETTINGS_UPDATED, {"keys": [".".join(p) for p, _ in changes]})
    return get_settings()
