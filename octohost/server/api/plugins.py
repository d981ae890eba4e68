"""``/plugin/pluginmanager/plugins``: the installed plugins in the shape of OctoPrint's plugin manager.

Admins only: paths, versions and errors help an attacker more than anyone else. Installing and
uninstalling are not offered; the list says what is there, enabled or not, and why one failed.
"""

from flask import Blueprint, jsonify

from .util import ctx, requires

blueprint = Blueprint("plugins", __name__)


@blueprint.route("/plugin/pluginmanager/plugins")
@requires("ADMIN")
def list_plugins():
    plugin_manager = ctx().plugin_manager
    plugins = sorted((info.as_dict() for info in plugin_manager.plugins.values()), key=lambda p: p["key"])
    return jsonify({"plugins": plugins, "safe_mode": bool(ctx().safe_mode)})
