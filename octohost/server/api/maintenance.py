"""Backups and system information over HTTP, where OctoPrint's clients look for them.

- ``GET/POST /plugin/backup/backup``, ``DELETE /plugin/backup/backup/<name>`` and ``POST
  /plugin/backup/restore``: OctoPrint's bundled backup plugin's API (admins only). A backup is
  written in the background, as OctoPrint does: the POST answers 201 at once and the event
  ``plugin_backup_backup_created`` follows. A restore takes an uploaded archive (multipart field
  ``file``, streamed to disk by the upload handler) or ``{"path": "<name of a kept backup>"}``,
  is refused while printing, and restarts the daemon on the restored files once answered.
  Downloads (``/plugin/backup/download/<name>``) are streamed by Tornado (``server/app.py``).
- ``GET /api/system/info``: :func:`octohost.maintenance.systeminfo.systeminfo`, as
  ``{"systeminfo": {...}}``; the bundle is ``/downloads/systeminfo.zip`` (Tornado, ``server/app.py``).
"""

import logging
import os
import threading

from flask import Blueprint, jsonify, request

from octohost.access.tokens import same_secret
from octohost.maintenance.backup import BackupError
from octohost.maintenance.systeminfo import systeminfo

from ..upload import INTERNAL_HEADER
from .util import ApiError, ctx, json_body, no_content, requires

log = logging.getLogger(__name__)
blueprint = Blueprint("maintenance", __name__)

BACKUP_CREATED = "plugin_backup_backup_created"
#: seconds between answering a restore and restarting, so the answer reaches the client
RESTART_DELAY = 0.5


def _as_api_error(exc):
    return ApiError(exc.status, str(exc))


def _listing(entry):
    return dict(entry, url=f"/plugin/backup/download/{entry['name']}")


@blueprint.route("/plugin/backup/backup", methods=["GET"])
@requires("ADMIN")
def list_backups():
    return jsonify(backups=[_listing(b) for b in ctx().backups.list()])


@blueprint.route("/plugin/backup/backup", methods=["POST"])
@requires("ADMIN")
def create_backup():
    data = json_body() if request.get_data(cache=True) else {}
    exclude = data.get("exclude", [])
    if not isinstance(exclude, list) or not all(isinstance(e, str) for e in exclude) or len(exclude) > 8:
        raise ApiError(400, "exclude must be a list of names: uploads, plugins, history, timelapse")
    context = ctx()
    from octohost.maintenance.backup import EXCLUDABLE, backup_name

    unknown = sorted(set(exclude) - EXCLUDABLE)
    if unknown:
        raise ApiError(400, f"cannot exclude {', '.join(unknown)}: choose from {', '.join(sorted(EXCLUDABLE))}")
    name = backup_name()

    def run():
        try:
            path = context.backups.create(exclude, name)
        except BackupError as exc:
            log.error("backup %s failed: %s", name, exc)
            return
        except Exception:
            log.exception("backup %s failed", name)
            return
        context.event_bus.fire(BACKUP_CREATED, {"name": name, "path": path, "excludes": exclude})

    threading.Thread(target=run, name="octohost-backup", daemon=True).start()
    response = jsonify(started=True, name=name)
    response.status_code = 201
    return response


@blueprint.route("/plugin/backup/backup/<name>", methods=["DELETE"])
@requires("ADMIN")
def delete_backup(name):
    try:
        ctx().backups.delete(name)
    except BackupError as exc:
        raise _as_api_error(exc) from None
    return no_content()


@blueprint.route("/plugin/backup/restore", methods=["POST"])
@requires("ADMIN")
def restore():
    context = ctx()
    uploaded = None
    if request.mimetype == "application/json":
        name = json_body().get("path")
        if not isinstance(name, str):
            raise ApiError(400, "path must be the name of a backup")
        try:
            path = context.backups.path_of(name)
        except BackupError as exc:
            raise _as_api_error(exc) from None
    elif same_secret(request.headers.get(INTERNAL_HEADER, ""), context.upload_token) and "file.path" in request.form:
        path = uploaded = request.form["file.path"]
    else:
        raise ApiError(400, "send the archive as the multipart field 'file', or {\"path\": name} of a kept backup")
    try:
        if context.printer.is_printing() or context.printer.is_paused():
            raise ApiError(409, "the printer is printing: restore once the job has ended")
        try:
            metadata = context.backups.restore(path)
        except BackupError as exc:
            raise _as_api_error(exc) from None
    finally:
        if uploaded:
            try:
                os.unlink(uploaded)
            except OSError:
                pass
    log.info("restored from a backup made by octohost %s; restarting", metadata.get("version"))
    context.request_restart(RESTART_DELAY)
    return jsonify(restored=True, restarting=True, version=metadata.get("version"), created=metadata.get("created"))


@blueprint.route("/api/system/info", methods=["GET"])
@requires("SYSTEM")
def system_info():
    context = ctx()
    extra = {"browser.user_agent": request.headers.get("User-Agent"), "octohost.safe_mode": context.safe_mode,
             "systeminfo.generator": "systemapi"}
    return jsonify(systeminfo=systeminfo(context.settings, context.printer, context.plugin_manager, extra))
