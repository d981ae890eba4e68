"""``/api/settings``: read the effective settings; admins change them with a partial tree.

Holders of SETTINGS_READ see the sections OctoPrint shows them (see ``_reader_tree``); holders of
SETTINGS see everything but the session secret. OctoPrint's own key names are added and accepted
too (:mod:`.octoprint_settings`). A POST is validated as a whole before anything is stored, so a bad value
changes nothing. The webcam section also carries OctoPrint's keys (``streamUrl``, ``webcams``, ...:
see :mod:`.webcam_fields`) so existing clients find them.

For SETTINGS holders the tree also carries ``scripts: {gcode: {name: source}}``, the printer's
GCODE scripts; a POST may change them (template syntax is checked for all before any is saved)
and the custom ``controls`` (checked against OctoPrint's control schema).
"""

import uuid

from flask import Blueprint, jsonify

from octohost.compat import layer as octoprint_layer
from octohost.events import Events
from octohost.printer.interface import UnknownScriptException
from octohost.printer.scripts import ScriptError
from octohost.settings import SettingsError, schema
from octohost.settings.store import check_value

from ..controls import ControlError, check_controls
from . import octoprint_settings, webcam_fields
from .util import ApiError, ctx, identity, json_body, requires

blueprint = Blueprint("settings", __name__)

PUBLIC_SECTIONS = ("serial", "temperature", "webcam", "feature", "appearance", "printerProfiles")
WRITABLE_SECTIONS = PUBLIC_SECTIONS + ("api", "accessControl", "events", "plugins", "controls")
HIDDEN = (("server", "secretKey"), ("mqtt", "broker", "password"))
#: OctoPrint's discovery plugin settings (Home Assistant's setup reads ``upnpUuid``); octohost does
#: not announce itself, so all but the id are OctoPrint's empty defaults
DISCOVERY_DEFAULTS = {"publicHost": None, "publicPort": None, "pathPrefix": None, "httpUsername": None,
                      "httpPassword": None, "zeroConf": [],
                      "model": {k: None for k in ("name", "description", "number", "url", "serial", "vendor",
                                                  "vendorUrl")},
                      "addresses": None, "ignoredAddresses": None, "interfaces": None, "ignoredInterfaces": None}


def _reader_tree(tree):
    """What holders of SETTINGS_READ alone see, as in OctoPrint: the printer-facing sections, the
    API switches, the uploads folder, the system commands, the GCODE scripts and (with CONTROL) the
    custom controls; not the access control, events, server internals or plugins' settings
    (OctoPrint filters those per plugin, which octohost does not do yet), only discovery's."""
    visible = {k: v for k, v in tree.items() if k in PUBLIC_SECTIONS + ("api",)}
    visible["folder"] = {"uploads": tree["folder"]["uploads"]}
    visible["server"] = {"commands": tree["server"]["commands"]}
    visible["controls"] = tree.get("controls", []) if identity().has("CONTROL") else []
    visible["plugins"] = {"discovery": tree.get("plugins", {}).get("discovery", {})}
    return visible


def _visible_tree():
    tree = ctx().settings.effective()
    full = identity().has("SETTINGS")
    if not full:
        tree = _reader_tree(tree)
    discovery = tree.setdefault("plugins", {}).setdefault("discovery", {})
    if isinstance(discovery, dict):  # what a client stored there wins over the defaults
        for key, value in dict(DISCOVERY_DEFAULTS, upnpUuid=_upnp_uuid(tree)).items():
            discovery.setdefault(key, value)
    for *sections, key in HIDDEN:
        node = tree
        for section in sections:
            node = node.get(section, {})
        node.pop(key, None)
    scripts = _scripts()
    if scripts is not None:
        tree["scripts"] = {"gcode": scripts.list_sources()}
    if full:
        tree["plugins"] = octoprint_layer.settings_tree(ctx().plugin_manager, tree.get("plugins"))
    octoprint_settings.add_octoprint_keys(tree, ctx().printer.get_connection_options())
    return tree


def _upnp_uuid(tree):
    """A UUID stable for this installation (derived from its session secret, which it does not
    reveal), as OctoPrint's discovery plugin keeps one in its settings."""
    secret = tree.get("server", {}).get("secretKey") or ""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "octohost-upnp:" + secret))


def _scripts():
    """The printer's GcodeScripts, or None when the printer (a plugin's) has none."""
    return getattr(ctx().printer, "scripts", None)


def _script_changes(data):
    """{name: source} of the scripts in a POST that differ from the stored ones, all checked."""
    scripts_data = data.pop("scripts", None)
    if scripts_data is None:
        return {}
    gcode = scripts_data.get("gcode") if isinstance(scripts_data, dict) else None
    if not isinstance(gcode, dict) or set(scripts_data) != {"gcode"}:
        raise ApiError(400, "scripts must be {\"gcode\": {name: source}}")
    scripts = _scripts()
    if scripts is None:
        raise ApiError(400, "This printer has no editable GCODE scripts")
    changes = {}
    for name, source in gcode.items():
        try:
            scripts.check_source(name, source)
        except ScriptError as exc:
            raise ApiError(400, str(exc)) from None
        try:
            unchanged = scripts.get_source(name) == source
        except UnknownScriptException:
            unchanged = False
        if not unchanged:
            changes[name] = source
    return changes


@blueprint.route("/api/settings")
@requires("SETTINGS_READ")
def get_settings():
    tree = _visible_tree()
    if tree.get("webcam") is not None:
        webcam_fields.octoprint_view(tree["webcam"], ctx().webcams)
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


def _plugin_saves(data):
    """Take ``plugins.<id>`` of OctoPrint plugins out of ``data``: their ``on_settings_save`` stores it."""
    plugins = data.get("plugins")
    if not isinstance(plugins, dict):
        return {}
    saves = {}
    for identifier in octoprint_layer.owned_settings(ctx().plugin_manager) & set(plugins):
        value = plugins.pop(identifier)
        if not isinstance(value, dict):
            raise ApiError(400, f"plugins.{identifier} must be an object")
        saves[identifier] = value
    return saves


@blueprint.route("/api/settings", methods=["POST"])
@requires("SETTINGS")
def save_settings():
    data = json_body()
    octoprint_settings.take_octoprint_keys(data, ctx().settings.get)
    if isinstance(data.get("webcam"), dict):
        try:
            webcam_fields.accept_post(data["webcam"])
        except ValueError as exc:
            raise ApiError(400, str(exc)) from None
    script_changes = _script_changes(data)
    if "controls" in data:
        try:
            check_controls(data["controls"])
        except ControlError as exc:
            raise ApiError(400, str(exc)) from None
    plugin_saves = _plugin_saves(data)
    changes = []
    for path, value in _leaves(data):
        if path[0] not in WRITABLE_SECTIONS:
            raise ApiError(400, f"settings section {path[0]!r} cannot be changed through the API")
        try:
            changes.append((path, check_value(path, value, where="request")))
        except SettingsError as exc:
            raise ApiError(400, str(exc)) from None
    if changes:
        try:
            ctx().settings.update(changes)
        except SettingsError as exc:  # config.yaml was broken by hand or another process: keep it
            raise ApiError(409, str(exc)) from None
    for name, source in script_changes.items():
        _scripts().save_source(name, source)
    for identifier, plugin_data in plugin_saves.items():
        octoprint_layer.save_settings(ctx().plugin_manager, identifier, plugin_data)
    keys = [".".join(p) for p, _ in changes] + [f"scripts.gcode.{name}" for name in script_changes]
    keys += [f"plugins.{identifier}" for identifier in plugin_saves]
    if keys:
        ctx().event_bus.fire(Events.SETTINGS_UPDATED, {"keys": keys})
    return get_settings()
