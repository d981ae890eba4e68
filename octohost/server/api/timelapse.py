"""``/api/timelapse``: rendered and unrendered timelapses and the timelapse configuration, in
OctoPrint's shape.

- ``GET /api/timelapse[?unrendered=true]``: ``{config, enabled, files[, unrendered]}``; each file has
  ``url`` (``/downloads/timelapse/<name>``) and ``thumbnail`` when one exists;
- ``POST /api/timelapse``: a new configuration (JSON or form fields ``type``, ``fps``, ``postRoll``,
  ``interval``, ``retractionZHop``, ``minDelay``, ``renderAfterPrint``) for this run, saved to
  the settings with ``save: true`` by an admin; answers like the GET;
- ``GET /api/timelapse/<name>``: redirect to the download; ``DELETE``: remove it (and its thumbnail);
- ``POST /api/timelapse/unrendered/<name>`` ``{"command": "render"}`` (409 while printing) and
  ``DELETE /api/timelapse/unrendered/<name>``: 204.
"""

from urllib.parse import quote

from flask import Blueprint, jsonify, redirect, request

from octohost.timelapse import TimelapseError
from octohost.timelapse.recorder import TimelapseConfig
from octohost.util import limits

from .util import ApiError, command_body, ctx, identity, json_body, query_flag, requires

blueprint = Blueprint("timelapse", __name__)

NO_CONTENT = ("", 204, {"Content-Type": "text/plain"})
TYPES = ("off", "zchange", "timed")
RENDER_AFTER_PRINT = ("always", "success", "failure", "never")
MAX_NAME_BYTES = 255


def _service():
    return ctx().timelapse


def _listing(unrendered):
    service = _service()
    files = []
    for entry in service.storage.list_videos():
        entry["url"] = "/downloads/timelapse/" + quote(entry["name"])
        if entry["thumbnail"] is None:
            entry.pop("thumbnail")
        else:
            entry["thumbnail"] = "/downloads/timelapse/" + quote(entry["thumbnail"])
        files.append(entry)
    result = {"config": service.config().as_api(), "enabled": service.enabled(), "files": files}
    if unrendered:
        result["unrendered"] = service.unrendered()
    return jsonify(result)


@blueprint.route("/api/timelapse")
@requires("TIMELAPSE_LIST")
def get_timelapses():
    return _listing(query_flag("unrendered"))


def _number(data, key, kind, check):
    """``data[key]`` as ``kind`` (int or float, from a number or a form string) passing ``check``."""
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (isinstance(value, str)
                                                                                and len(value) > 32):
        raise ApiError(400, f"{key} is invalid")
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise ApiError(400, f"{key} is invalid") from None
    if not limits.number_in_range(number) or not check(number):
        raise ApiError(400, f"{key} is invalid")
    return number


@blueprint.route("/api/timelapse", methods=["POST"])
@requires("TIMELAPSE_ADMIN")
def configure():
    data = json_body() if request.mimetype == "application/json" else request.form.to_dict()
    if "type" not in data:
        return _listing(False)
    if data["type"] not in TYPES:
        raise ApiError(400, f"type must be one of {', '.join(TYPES)}")
    # as OctoPrint: a POST is a whole configuration, what it leaves out takes OctoPrint's defaults
    values = {"type": data["type"], "fps": 25, "post_roll": 0, "render_after_print": "always", "interval": 10,
              "retraction_zhop": 0.0, "min_delay": 5.0}
    fields = (("postRoll", "post_roll", int, lambda v: 0 <= v <= 600), ("fps", "fps", int, lambda v: 0 < v <= 120),
              ("interval", "interval", int, lambda v: 0 < v <= 86400),
              ("retractionZHop", "retraction_zhop", float, lambda v: 0 <= v <= 100),
              ("minDelay", "min_delay", float, lambda v: 0 < v <= 3600))
    for key, name, kind, check in fields:
        if key in data:
            values[name] = _number(data, key, kind, check)
    if "renderAfterPrint" in data:
        if data["renderAfterPrint"] not in RENDER_AFTER_PRINT:
            raise ApiError(400, "renderAfterPrint is invalid")
        values["render_after_print"] = data["renderAfterPrint"]
    save = data.get("save") in (True, "true", "True", "yes", "1", 1) and identity().has("ADMIN")
    _service().configure(TimelapseConfig(**values), persist=save)
    return _listing(False)


def _checked_name(name):
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise ApiError(400, "name is too long")
    return name


@blueprint.route("/api/timelapse/<filename>")
@requires("TIMELAPSE_DOWNLOAD")
def download(filename):
    if _service().storage.video_path(_checked_name(filename)) is None:
        raise ApiError(404, "Timelapse not found")
    target = "/downloads/timelapse/" + quote(filename)
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, 302)


@blueprint.route("/api/timelapse/<filename>", methods=["DELETE"])
@requires("TIMELAPSE_DELETE")
def delete(filename):
    _service().storage.delete_video(_checked_name(filename))
    return _listing(False)


@blueprint.route("/api/timelapse/unrendered/<name>", methods=["DELETE"])
@requires("TIMELAPSE_MANAGE_UNRENDERED")
def delete_unrendered(name):
    try:
        _service().delete_unrendered(_checked_name(name))
    except TimelapseError as exc:
        raise ApiError(exc.status, str(exc)) from None
    return NO_CONTENT


@blueprint.route("/api/timelapse/unrendered/<name>", methods=["POST"])
@requires("TIMELAPSE_MANAGE_UNRENDERED")
def render_unrendered(name):
    command_body({"render": []})
    try:
        _service().render_unrendered(_checked_name(name))
    except TimelapseError as exc:
        raise ApiError(exc.status, str(exc)) from None
    return NO_CONTENT
