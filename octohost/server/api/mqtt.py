"""``/api/mqtt`` (octohost addition): the MQTT bridge's connection state, and its settings.

GET answers ``{"state": {...}}`` to holders of STATUS (it is about this printer's reachability);
holders of SETTINGS (admins) also get ``settings``, the ``mqtt`` section with the password
replaced by ``passwordSet``. A POST of ``{"settings": {partial mqtt tree}}`` (SETTINGS) is checked
as a whole, saved, and restarts the bridge; ``"password": null`` clears the password, leaving it
out keeps it.
"""

from flask import Blueprint, jsonify

from octohost.events import Events
from octohost.settings import SettingsError
from octohost.settings.store import check_value

from .util import ApiError, ctx, identity, json_body, requires

blueprint = Blueprint("mqtt", __name__)


def _leaves(tree, prefix):
    for key, value in tree.items():
        path = prefix + (str(key),)
        if isinstance(value, dict):
            yield from _leaves(value, path)
        else:
            yield path, value


def _body():
    body = {"state": ctx().mqtt.status()}
    if identity().has("SETTINGS"):
        tree = ctx().settings.effective().get("mqtt", {})
        broker = dict(tree.get("broker", {}))
        broker["passwordSet"] = bool(broker.pop("password", None))
        body["settings"] = dict(tree, broker=broker)
    return body


@blueprint.route("/api/mqtt")
@requires("STATUS")
def get_mqtt():
    return jsonify(_body())


@blueprint.route("/api/mqtt", methods=["POST"])
@requires("SETTINGS")
def save_mqtt():
    data = json_body()
    tree = data.get("settings")
    if not isinstance(tree, dict) or set(data) != {"settings"}:
        raise ApiError(400, 'expected {"settings": {...}} with mqtt settings')
    changes = []
    for path, value in _leaves(tree, ("mqtt",)):
        try:
            changes.append((path, check_value(path, value, where="request")))
        except SettingsError as exc:
            raise ApiError(400, str(exc)) from None
    if changes:
        try:
            ctx().settings.update(changes)
        except SettingsError as exc:
            raise ApiError(409, str(exc)) from None
        ctx().event_bus.fire(Events.SETTINGS_UPDATED, {"keys": [".".join(p) for p, _ in changes]})
    return jsonify(_body())
