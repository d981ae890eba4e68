"""``/api/files``: list, upload (via the streaming handler), folders, select/copy/move/analyse, delete.

Wire format as OctoPrint's: entries carry ``refs`` (``resource``, ``download``, and ``thumbnail``
when the slicer embedded one; each of ``thumbnails`` has its ``url``); an upload answers
201 with ``Location``, ``done``, ``files.local.{name, origin, path, refs}``, ``effectiveSelect`` and
``effectivePrint``. An upload to ``sdcard`` is stored locally too, then streamed to the card
(``done: false`` and ``files.sdcard`` in the answer). Storage errors map to 400 (bad name or path),
404, 409 (exists, in use) and 415 (file type). SD card listings come from the printer when it knows the card.
"""

import contextlib
import os
import urllib.parse

from flask import Blueprint, jsonify, request, url_for

from octohost.access.tokens import same_secret
from octohost.events import Events
from octohost.files.errors import StorageError
from octohost.printer.interface import InvalidFileLocation, InvalidFileType

from ..upload import INTERNAL_HEADER, TEMP_PREFIX
from .util import ApiError, check, command_body, ctx, identity, no_content, query_flag, requires, string

blueprint = Blueprint("files", __name__)

LOCATIONS = ("local", "sdcard")
STORAGE_STATUS = {"path_escape": 400, "invalid_name": 400, "limit_exceeded": 400, "upload_failed": 400,
                  "not_found": 404, "already_exists": 409, "file_in_use": 409, "not_empty": 409, "invalid_type": 415}
TRUE_VALUES = ("true", "1", "yes", "on")


@contextlib.contextmanager
def storage_errors():
    try:
        yield
    except StorageError as exc:
        raise ApiError(STORAGE_STATUS.get(exc.code, 400), str(exc)) from None


def _location(target):
    if target not in LOCATIONS:
        raise ApiError(404, f"Unknown location: {target}")
    return target


def _refs(origin, path, is_file):
    refs = {"resource": url_for("files.file_resource", target=origin, path=path, _external=True)}
    if is_file and origin == "local":
        refs["download"] = request.host_url + "downloads/files/local/" + urllib.parse.quote(path)
    return refs


#: thumbnail formats a browser shows
VIEWABLE_THUMBNAILS = ("png", "jpg")


def _thumbnail_path(entry, name):
    query = urllib.parse.urlencode({"name": name, "v": entry.get("hash") or entry.get("date") or ""})
    return f"downloads/thumbs/local/{urllib.parse.quote(entry['path'])}?{query}"


def _with_thumbnail_urls(entry):
    """Each thumbnail gets its ``url``; ``refs.thumbnail`` is the largest one a browser can show.

    That one also goes into ``thumbnail`` relative to the server's root, where OctoPrint's
    slicer-thumbnail plugins put it and mobile apps look for it.
    """
    thumbnails = [dict(t, url=request.host_url + _thumbnail_path(entry, t["name"])) for t in entry["thumbnails"]]
    entry["thumbnails"] = thumbnails
    viewable = [t for t in thumbnails if t.get("format") in VIEWABLE_THUMBNAILS]
    if viewable:
        best = max(viewable, key=lambda t: t["width"] * t["height"])
        entry["refs"]["thumbnail"] = best["url"]
        entry["thumbnail"] = _thumbnail_path(entry, best["name"])
        entry["thumbnail_src"] = "octohost"


def _with_refs(entry, origin="local"):
    entry = dict(entry)
    entry["refs"] = _refs(origin, entry["path"], entry.get("type") != "folder")
    if origin == "local" and entry.get("thumbnails"):
        _with_thumbnail_urls(entry)
    if "children" in entry:
        entry["children"] = [_with_refs(child, origin) for child in entry["children"]]
    return entry


def _local_files(path="", recursive=False):
    with storage_errors():
        entries = ctx().file_manager.list_files(path, recursive=recursive)
    return [_with_refs(e) for e in entries.values()]


def _sd_files():
    printer = ctx().printer
    if not hasattr(printer, "get_sd_files") or not printer.is_sd_ready():
        return []
    files = []
    for entry in printer.get_sd_files():
        name = entry.get("name") if isinstance(entry, dict) else entry
        record = {"name": name, "display": entry.get("display", name) if isinstance(entry, dict) else name,
                  "path": name, "origin": "sdcard", "type": "machinecode", "typePath": ["machinecode", "gcode"],
                  "size": entry.get("size") if isinstance(entry, dict) else None}
        record["refs"] = _refs("sdcard", name, True)
        files.append(record)
    return files


def _usage():
    return ctx().file_manager.storage_usage()


@blueprint.route("/api/files")
@requires("FILES_LIST")
def list_all():
    files = _local_files(recursive=query_flag("recursive")) + _sd_files()
    return jsonify(dict(files=files, **_usage()))


@blueprint.route("/api/files/<target>")
@requires("FILES_LIST")
def list_location(target):
    _location(target)
    if target == "sdcard":
        return jsonify({"files": _sd_files(), "remote": True})
    return jsonify(dict(files=_local_files(recursive=query_flag("recursive")), **_usage()))


@blueprint.route("/api/files/<target>/<path:path>")
@requires("FILES_LIST")
def file_resource(target, path):
    _location(target)
    if target == "sdcard":
        entry = next((f for f in _sd_files() if f["path"] == path), None)
    else:
        with storage_errors():
            entry = ctx().file_manager.get_file(path, recursive=query_flag("recursive"))
        entry = _with_refs(entry) if entry is not None else None
    if entry is None:
        raise ApiError(404, f"File not found: {path}")
    return jsonify(entry)


# -- uploads (arriving as a small form from octohost.server.upload) ----------------------------


def _flag(name):
    return request.form.get(name, "false").strip().lower() in TRUE_VALUES


def _created(body, location):
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = location
    return response


def _join(folder, name):
    return "/".join(p for p in (folder.strip("/"), name) if p)


@blueprint.route("/api/files/<target>", methods=["POST"])
@requires("FILES_UPLOAD")
def upload(target):
    _location(target)
    token = request.headers.get(INTERNAL_HEADER, "")
    if not same_secret(token, ctx().upload_token):
        # a url-encoded form straight from the client: a folder to create, never a file
        if request.mimetype == "application/x-www-form-urlencoded" and "foldername" in request.form:
            return _create_folder(target)
        raise ApiError(400, "Uploads must be sent as multipart/form-data")
    if "file.path" in request.form:
        try:
            return _upload_file(target)
        finally:
            _discard_temp_files()
    if "foldername" in request.form:
        return _create_folder(target)
    raise ApiError(400, "No file to upload and no folder to create")


def _discard_temp_files():
    """Remove what the upload handler streamed, unless the file manager took it (moved it)."""
    for key, value in request.form.items():
        if key.endswith(".path") and _is_upload_temp_file(value):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(value)


def _is_upload_temp_file(path):
    real = os.path.realpath(path)
    return (os.path.dirname(real) == os.path.realpath(ctx().upload_temp_folder)
            and os.path.basename(real).startswith(TEMP_PREFIX))


def _create_folder(target):
    if target != "local":
        raise ApiError(400, "Folders can only be created in local storage")
    name = request.form["foldername"]
    with storage_errors():
        stored = ctx().file_manager.add_folder(_join(request.form.get("path", ""), name),
                                                                       ignore_existing=False)
    location = url_for("files.file_resource", target="local", path=stored, _external=True)
    return _created({"done": True, "folder": {"name": stored.rpartition("/")[2], "path": stored, "origin": "local",
                                              "refs": {"resource": location}}}, location)


def _upload_file(target):
    c = ctx()
    file_manager = ctx().file_manager
    temp_path = request.form["file.path"]
    if not _is_upload_temp_file(temp_path):
        raise ApiError(400, "Invalid upload")
    name = request.form.get("file.name", "")
    if not name:
        raise ApiError(400, "The uploaded file has no name")
    select, print_after = _flag("select"), _flag("print")
    if select or print_after:
        check("FILES_SELECT")
    if print_after:
        check("PRINT")
    printer = c.printer
    if target == "sdcard":
        _require_sd_ready(printer)
    with storage_errors():
        stored = file_manager.add_file_from_path(_join(request.form.get("path", ""), name), temp_path,
                                                 allow_overwrite=not _flag("noOverwrite"), move=True,
                                                 user=identity().user.name)
    if target == "sdcard":
        return _transfer_to_sd(printer, file_manager, stored, select, print_after)
    effective_select = effective_print = False
    if (select or print_after) and printer is not None and printer.is_operational() and not printer.is_printing():
        try:
            printer.select_file(stored, False, printAfterSelect=print_after, user=identity().user.name)
            effective_select, effective_print = True, print_after
        except (InvalidFileType, InvalidFileLocation):
            pass
    c.event_bus.fire(Events.UPLOAD, {"name": stored.rpartition("/")[2], "path": stored, "target": target,
                                     "select": effective_select, "print": effective_print})
    location = url_for("files.file_resource", target="local", path=stored, _external=True)
    body = {"done": True, "files": {"local": {"name": stored.rpartition("/")[2], "origin": "local", "path": stored,
                                              "refs": _refs("local", stored, True)}},
            "effectiveSelect": effective_select, "effectivePrint": effective_print}
    return _created(body, location)


def _require_sd_ready(printer):
    if not ctx().settings.get("feature.sdSupport"):
        raise ApiError(404, "SD support is disabled")
    if not printer.is_operational() or printer.is_printing() or printer.is_paused():
        raise ApiError(409, "The printer is not connected or is busy printing")
    if not printer.is_sd_ready():
        raise ApiError(409, "The SD card is not ready")


def _transfer_to_sd(printer, file_manager, stored, select, print_after):
    """Start streaming a stored upload to the SD card; answers at once with ``done: false``.

    The local copy stays in local storage; selecting (and printing) happens once the transfer is done.
    """
    user = identity().user.name

    def transferred(local, remote, elapsed):
        if select or print_after:
            printer.select_file(remote, True, printAfterSelect=print_after, user=user)

    name = stored.rpartition("/")[2]
    try:
        remote = printer.add_sd_file(name, file_manager.path_on_disk(stored), on_success=transferred)
    except (RuntimeError, InvalidFileLocation) as exc:
        raise ApiError(409, str(exc)) from None
    location = url_for("files.file_resource", target="sdcard", path=remote, _external=True)
    body = {"done": False,
            "files": {"local": {"name": name, "origin": "local", "path": stored, "refs": _refs("local", stored, True)},
                      "sdcard": {"name": remote, "origin": "sdcard", "path": remote,
                                 "refs": _refs("sdcard", remote, True)}},
            "effectiveSelect": select or print_after, "effectivePrint": print_after}
    ctx().event_bus.fire(Events.UPLOAD, {"name": name, "path": stored, "target": "sdcard",
                                         "select": select or print_after, "print": print_after})
    return _created(body, location)


# -- commands and deletion ---------------------------------------------------------------------

COMMANDS = {"select": (), "unselect": (), "slice": (), "copy": ("destination",), "move": ("destination",),
            "analyse": ()}


def _printer_ready_for_selection():
    printer = ctx().printer
    if not printer.is_operational():
        raise ApiError(409, "Printer is not operational")
    if printer.is_printing() or printer.is_paused():
        raise ApiError(409, "Printer is busy printing")
    return printer


@blueprint.route("/api/files/<target>/<path:path>", methods=["POST"])
@requires("FILES_LIST")
def file_command(target, path):
    _location(target)
    command, data = command_body(COMMANDS)
    file_manager = ctx().file_manager
    if target == "sdcard":
        return _sd_command(command, path, data)
    with storage_errors():
        entry = file_manager.get_file(path)
    if entry is None:
        raise ApiError(404, f"File not found: {path}")
    is_folder = entry["type"] == "folder"
    if command == "select":
        print_after = data.get("print", False)
        if not isinstance(print_after, bool):
            raise ApiError(400, "print must be a boolean")
        check("FILES_SELECT", *(("PRINT",) if print_after else ()))
        if is_folder or entry["type"] != "machinecode":
            raise ApiError(415, f"Cannot select {path} for printing: not a machine code file")
        printer = _printer_ready_for_selection()
        try:
            printer.select_file(entry["path"], False, printAfterSelect=print_after, user=identity().user.name)
        except (InvalidFileType, InvalidFileLocation) as exc:
            raise ApiError(415, str(exc)) from None
        return no_content()
    if command == "unselect":
        check("FILES_SELECT")
        printer = ctx().printer
        if printer.is_printing() or printer.is_paused():
            raise ApiError(409, "Cannot unselect the file while printing")
        printer.unselect_file()
        return no_content()
    if command == "slice":
        check("SLICE")
        if entry["type"] != "model":
            raise ApiError(415, f"Cannot slice {path}: not a model file")
        raise ApiError(400, "No slicer is configured")
    if command == "analyse":
        check("FILES_UPLOAD")
        if is_folder:
            raise ApiError(400, "Folders cannot be analysed")
        with storage_errors():
            file_manager.analyse(entry["path"], high_priority=True)
        return no_content()
    check("FILES_UPLOAD")
    if command == "move":
        check("FILES_DELETE")
    destination = string(data, "destination")
    with storage_errors():
        if is_folder:
            operation = file_manager.copy_folder if command == "copy" else file_manager.move_folder
        else:
            operation = file_manager.copy_file if command == "copy" else file_manager.move_file
        stored = operation(entry["path"], destination)
        new_entry = file_manager.get_file(stored)
    location = url_for("files.file_resource", target="local", path=stored, _external=True)
    return _created(_with_refs(new_entry) if new_entry else {"path": stored}, location)


def _sd_command(command, path, data):
    printer = ctx().printer
    if command != "select":
        raise ApiError(400, f"{command} is not possible on the SD card")
    print_after = data.get("print", False)
    if not isinstance(print_after, bool):
        raise ApiError(400, "print must be a boolean")
    check("FILES_SELECT", *(("PRINT",) if print_after else ()))
    _printer_ready_for_selection()
    if not printer.is_sd_ready():
        raise ApiError(409, "The SD card is not ready")
    printer.select_file(path, True, printAfterSelect=print_after, user=identity().user.name)
    return no_content()


def _delete_from_sd(name):
    if not any(entry["path"] == name for entry in _sd_files()):
        raise ApiError(404, f"File not found on the SD card: {name}")
    try:
        deleted = ctx().printer.delete_sd_file(name, tags={"source:api", "api:files.sd"})
    except ValueError as exc:
        raise ApiError(409, str(exc)) from None
    if not deleted:
        raise ApiError(409, "The SD card is not ready")
    return no_content()


@blueprint.route("/api/files/<target>/<path:path>", methods=["DELETE"])
@requires("FILES_DELETE")
def delete(target, path):
    _location(target)
    if target == "sdcard":
        return _delete_from_sd(path)
    file_manager = ctx().file_manager
    with storage_errors():
        entry = file_manager.get_file(path)
        if entry is None:
            raise ApiError(404, f"File not found: {path}")
        if entry["type"] == "folder":
            if not entry["path"]:
                raise ApiError(400, "The root folder cannot be deleted")
            file_manager.remove_folder(entry["path"], recursive=True)
        else:
            file_manager.remove_file(entry["path"])
    return no_content()
