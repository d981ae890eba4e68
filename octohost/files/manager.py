"""The file manager: local storage, metadata, analysis and events behind one object.

The REST API, the printer and the CLI use only this class. It sanitizes and confines paths
(:mod:`.storage`), keeps sidecar metadata (:mod:`.metadata`), runs plugin preprocessors on
uploads, queues background analysis per file type and fires OctoPrint's file events. A file the
printer is using (``set_can_modify`` predicate) cannot be overwritten, moved or removed.
Every path a client creates is held to ``files.limits`` (:mod:`.limits`); listings expand no
deeper than that, and an OSError caused by a client's name (ENAMETOOLONG, ...) becomes a
StorageError.
"""

import functools
import logging
import os
import shutil
import threading
import time

from octohost.events import Events
from octohost.plugin.handlers import run_handlers

from . import storage as storage_module
from .analysis.queue import QueueEntry
from .entries import (
    RESERVED_KEYS,
    STORAGE,
    current_metadata,
    file_entry,
    folder_entry,
    is_current,
    needs_analysis,
    stamp,
    with_children,
)
from .errors import AlreadyExists, FileInUse, InvalidName, InvalidType, NotFound, StorageError, from_os_error
from .extensions import ExtensionTree
from .limits import PathLimits, byte_length
from .metadata import MetadataStore, add_print, apply_analysis
from .scheduler import AnalysisScheduler, analysis_factories
from .storage import LocalStorage, join_path
from .wrappers import DiskFileWrapper, StreamWrapper

log = logging.getLogger(__name__)

#: levels below the deepest allowed path where we still make temp files (``.thumbs/<file>/``)
SIDECAR_LEVELS = 2


def _client_os_errors(argument=0):
    """Decorator: an OSError that the path in positional ``argument`` caused (too long, a file in
    the way, ...) is raised as the matching StorageError; other OSErrors are the server's own."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except OSError as exc:
                error = from_os_error(exc, args[argument] if len(args) > argument else None)
                if error is None:
                    raise
                raise error from exc

        return wrapper

    return decorate


class FileManager:
    def __init__(self, settings, plugin_manager=None, event_bus=None, printer_profile_manager=None):
        self.settings = settings
        self.plugin_manager = plugin_manager
        self.event_bus = event_bus
        self.printer_profile_manager = printer_profile_manager
        self.storage = LocalStorage(settings.folder("uploads"))
        self.storage.remove_leftovers(max_depth=self.limits().depth + SIDECAR_LEVELS)
        self.metadata = MetadataStore()
        self.extensions = ExtensionTree(plugin_manager)
        self._lock = threading.RLock()
        self._can_modify = None
        self.analysis = AnalysisScheduler(analysis_factories(settings, plugin_manager),
                                          self._on_analysis_started, self._on_analysis_finished)

    # -- names and types -----------------------------------------------------------------------

    def sanitize_name(self, name):
        return storage_module.sanitize_name(name)

    def limits(self):
        """The current ``files.limits`` (read each time, so a settings change applies at once)."""
        return PathLimits.from_settings(self.settings)

    def sanitize_path(self, path):
        return self.storage.sanitize_path(path)

    def file_type(self, name):
        """Type path of ``name`` from the extension tree (``["machinecode", "gcode"]``) or None."""
        return self.extensions.type_path(name)

    def valid_extension(self, name, type="machinecode"):
        return self.extensions.is_type(name, type)

    @property
    def extension_tree(self):
        return self.extensions.tree

    def set_can_modify(self, predicate):
        """``predicate(path) -> bool``: False protects the file (e.g. it is being printed)."""
        self._can_modify = predicate

    def can_modify(self, path):
        predicate = self._can_modify
        if predicate is None:
            return True
        try:
            return bool(predicate(path))
        except Exception:
            log.exception("can_modify predicate raised for %s; treating the file as in use", path)
            return False

    def _require_modifiable(self, path):
        if not self.can_modify(path):
            raise FileInUse(f"file is in use and cannot be changed: {path!r}", path)

    def _require_folder_modifiable(self, folder):
        for path in self.storage.walk_files(folder):
            self._require_modifiable(path)

    # -- paths ---------------------------------------------------------------------------------

    def path_on_disk(self, path):
        """Absolute path of ``path`` in the uploads folder; raises PathEscape if it leads outside."""
        return self.storage.resolve(path)

    def file_exists(self, path):
        return self.storage.is_file(path)

    def folder_exists(self, path):
        return self.storage.is_folder(path)

    def storage_usage(self):
        usage = shutil.disk_usage(self.storage.root)
        return {"free": usage.free, "total": usage.total}

    def _split(self, path):
        path = self.storage.normalize(path)
        folder, _, name = path.rpartition("/")
        return path, folder, name

    def _folder_on_disk(self, folder):
        return self.storage.resolve(folder)

    # -- adding --------------------------------------------------------------------------------

    def _target_for_new_file(self, path, allow_overwrite):
        stored = self.storage.sanitize_path(path)
        if not stored:
            raise InvalidName("a file needs a name", path)
        self.limits().check(stored)
        name = stored.rpartition("/")[2]
        if self.file_type(name) is None:
            allowed = ", ".join(self.extensions.extensions())
            raise InvalidType(f"unsupported file type: {name!r} (allowed: {allowed})", path)
        if self.storage.is_file(stored):
            if not allow_overwrite:
                raise AlreadyExists(f"file exists and overwriting was not allowed: {stored!r}", stored)
            self._require_modifiable(stored)
        return stored

    @_client_os_errors()
    def add_file(self, path, stream, allow_overwrite=False, display=None, links=None, printer_profile=None,
                 user=None):
        """Store the binary ``stream`` at (the sanitized) ``path``; returns the stored path.
        ``user``: who added it, listed as the file's ``user`` (as in OctoPrint).

        The stream is read in chunks into a temp file that is renamed into place, so a failing
        stream leaves no file and an overwritten file intact until the new one is complete.
        """
        stored = self._target_for_new_file(path, allow_overwrite)
        name = stored.rpartition("/")[2]
        wrapper = self._preprocess(stored, StreamWrapper(name, stream), links, printer_profile, allow_overwrite)
        source = wrapper.stream()
        try:
            _size, digest = self.storage.write_stream(stored, source, allow_overwrite)
        finally:
            if source is not stream:
                _close_quietly(source)
        return self._added(stored, digest, _display_name(path, display), links, printer_profile, user)

    @_client_os_errors()
    def add_file_from_path(self, path, source_path, allow_overwrite=False, move=True, display=None, links=None,
                           printer_profile=None, user=None):
        """Store a file that is already on disk (an upload the server streamed to a temp file).

        With ``move`` and no preprocessor replacing the content, the file is renamed into place
        (no copy); otherwise it is streamed like :meth:`add_file`.
        """
        if not os.path.isfile(source_path):
            raise NotFound(f"no such source file: {source_path!r}", path)
        stored = self._target_for_new_file(path, allow_overwrite)
        name = stored.rpartition("/")[2]
        original = DiskFileWrapper(name, source_path, move=move)
        wrapper = self._preprocess(stored, original, links, printer_profile, allow_overwrite)
        digest = None
        if wrapper is original and move:
            written = self.storage.move_into_place(stored, source_path, allow_overwrite)
            digest = written[1] if written else None
        else:
            source = wrapper.stream()
            try:
                _size, digest = self.storage.write_stream(stored, source, allow_overwrite)
            finally:
                _close_quietly(source)
            if move:
                try:
                    os.unlink(source_path)
                except OSError:
                    pass
        if digest is None and not self.analysis.handles(self.file_type(name)):
            digest = _md5_of(self.storage.resolve(stored))
        return self._added(stored, digest, _display_name(path, display), links, printer_profile, user)

    def _preprocess(self, path, wrapper, links, printer_profile, allow_overwrite):
        if self.plugin_manager is None:
            return wrapper
        def preprocess(handler):  # reads ``wrapper`` when called: each handler gets the previous one's
            return handler(path, wrapper, links=links, printer_profile=printer_profile,
                           allow_overwrite=allow_overwrite)

        handlers = self.plugin_manager.handlers("filemanager.preprocessor")
        for _identifier, result in run_handlers("filemanager.preprocessor", handlers, preprocess, subject=path):
            if result is not None:
                wrapper = result
        return wrapper

    def _added(self, stored, digest, display, links, printer_profile, user=None):
        path, folder, name = self._split(stored)
        folder_abs = self._folder_on_disk(folder)
        st = os.stat(os.path.join(folder_abs, name))
        entry = {"stamp": stamp(st)}
        if user:
            entry["user"] = user
        if digest:
            entry["hash"] = digest
        if display and display != name:
            entry["display"] = display
        if links:
            entry["links"] = list(links)
        with self._lock:
            self.analysis.dequeue(path)
            old = self.metadata.get(folder_abs, name)
            for key in ("prints", "history", "statistics"):
                if key in old:
                    entry[key] = old[key]
            self.metadata.remove(folder_abs, name)
            self.metadata.replace(folder_abs, name, entry)
        type_path = self.file_type(name)
        self._fire(Events.FILE_ADDED, {"storage": STORAGE, "path": path, "name": name, "type": type_path})
        self._fire(Events.UPDATED_FILES, {"type": "printables"})
        self.analyse(path, printer_profile=printer_profile)
        return path

    @_client_os_errors()
    def add_folder(self, path, ignore_existing=True):
        stored = self.storage.sanitize_path(path)
        if not stored:
            raise InvalidName("a folder needs a name", path)
        self.limits().check(stored)
        existed = self.storage.is_folder(stored)
        self.storage.make_folder(stored, ignore_existing=ignore_existing)
        if not existed:
            self._fire(Events.FOLDER_ADDED, {"storage": STORAGE, "path": stored, "name": stored.rpartition("/")[2]})
            self._fire(Events.UPDATED_FILES, {"type": "printables"})
        return stored

    # -- removing, copying, moving -------------------------------------------------------------

    @_client_os_errors()
    def remove_file(self, path):
        path, folder, name = self._split(path)
        with self._lock:
            self.storage.require_file(path)
            self._require_modifiable(path)
            self.analysis.dequeue(path)
            self.storage.remove_file(path)
            self.metadata.remove(self._folder_on_disk(folder), name)
        self._fire(Events.FILE_REMOVED, {"storage": STORAGE, "path": path, "name": name, "type": self.file_type(name)})
        self._fire(Events.UPDATED_FILES, {"type": "printables"})

    @_client_os_errors()
    def remove_folder(self, path, recursive=True):
        path, _folder, name = self._split(path)
        if not path:
            raise InvalidName("the root folder cannot be removed", path)
        with self._lock:
            folder_abs = self.storage.require_folder(path)
            self._require_folder_modifiable(path)
            self.analysis.dequeue_below(path)
            self.storage.remove_folder(path, recursive=recursive)
            self.metadata.forget_folder(folder_abs)
        self._fire(Events.FOLDER_REMOVED, {"storage": STORAGE, "path": path, "name": name})
        self._fire(Events.UPDATED_FILES, {"type": "printables"})

    def _file_destination(self, source, destination):
        """Destination path for a file copy/move: into an existing folder, or a new (sanitized) path."""
        source_name = source.rpartition("/")[2]
        if destination is not None and self.storage.is_folder(destination):
            target = join_path(self.storage.normalize(destination), source_name)
        else:
            target = self.storage.sanitize_path(destination)
        if not target:
            raise InvalidName("a destination is required", destination)
        self.limits().check(target)
        if self.file_type(target.rpartition("/")[2]) is None:
            raise InvalidType(f"unsupported file type: {target!r}", target)
        if self.storage.is_file(target) or self.storage.is_folder(target):
            raise AlreadyExists(f"destination exists: {target!r}", target)
        return target

    @_client_os_errors(1)
    def copy_file(self, source, destination):
        """Copy a file (with its metadata); ``destination`` is a new path or an existing folder."""
        source, src_folder, src_name = self._split(source)
        self.storage.require_file(source)
        target = self._file_destination(source, destination)
        self.storage.copy_file(source, target)
        _, dst_folder, dst_name = self._split(target)
        with self._lock:
            src_abs, dst_abs = self._folder_on_disk(src_folder), self._folder_on_disk(dst_folder)
            self.metadata.transfer(src_abs, src_name, dst_abs, dst_name, keep_source=True)
            self._restamp(src_abs, src_name, dst_abs, dst_name)
        self._fire_added(target)
        return target

    @_client_os_errors(1)
    def move_file(self, source, destination):
        """Move a file (with its metadata); ``destination`` is a new path or an existing folder."""
        source, src_folder, src_name = self._split(source)
        with self._lock:
            self.storage.require_file(source)
            self._require_modifiable(source)
            target = self._file_destination(source, destination)
            was_pending = self.analysis.dequeue(source)
            self.storage.move_file(source, target)
            _, dst_folder, dst_name = self._split(target)
            self.metadata.transfer(self._folder_on_disk(src_folder), src_name, self._folder_on_disk(dst_folder),
                                   dst_name, keep_source=False)
        self._fire(Events.FILE_REMOVED, {"storage": STORAGE, "path": source, "name": src_name,
                                         "type": self.file_type(src_name)})
        self._fire_added(target)
        if was_pending:
            self.analyse(target)
        return target

    def _restamp(self, src_folder, src_name, dst_folder, dst_name):
        """A copy has a new mtime: carry the analysis over if the source's analysis was current."""
        src_md = self.metadata.get(src_folder, src_name)
        try:
            src_st = os.stat(os.path.join(src_folder, src_name))
            dst_st = os.stat(os.path.join(dst_folder, dst_name))
        except OSError:
            return
        if src_md.get("stamp") == stamp(src_st):
            self.metadata.update(dst_folder, dst_name, lambda md: md.__setitem__("stamp", stamp(dst_st)))
        else:
            self.metadata.update(dst_folder, dst_name, lambda md: md.pop("stamp", None))

    def _folder_destination(self, source, destination, moving):
        """Destination of a folder copy/move: inside an existing folder, or a new (sanitized) path.

        The folder's content must fit ``files.limits`` there too, unless a move takes it no deeper
        and to no longer a path than it had (so a tree made too deep by hand can still be moved up).
        """
        if not source:
            raise InvalidName("the root folder cannot be copied or moved", destination)
        if destination is not None and self.storage.is_folder(destination):
            target = join_path(self.storage.normalize(destination), source.rpartition("/")[2])
        else:
            target = self.storage.sanitize_path(destination)
        if not target:
            raise InvalidName("a destination is required", destination)
        limits = self.limits()
        limits.check(target)
        levels = len(target.split("/"))
        if moving and levels <= len(source.split("/")) and byte_length(target) <= byte_length(source):
            return target
        depth, length = self.storage.extent(source, max(limits.depth - levels, 0))
        limits.check_tree(target, depth, length)
        return target

    @_client_os_errors(1)
    def copy_folder(self, source, destination):
        """Copy a folder with everything in it; ``destination`` is a new path or an existing folder."""
        source = self.storage.normalize(source)
        target = self._folder_destination(source, destination, moving=False)
        self.storage.copy_folder(source, target)
        self._restamp_tree(source, target)
        self._fire_folder_added(target)
        return target

    @_client_os_errors(1)
    def move_folder(self, source, destination):
        """Move a folder with everything in it; ``destination`` is a new path or an existing folder."""
        source, _, name = self._split(source)
        target = self._folder_destination(source, destination, moving=True)
        with self._lock:
            src_abs = self.storage.require_folder(source)
            self._require_folder_modifiable(source)
            self.analysis.dequeue_below(source)
            self.storage.move_folder(source, target)
            self.metadata.forget_folder(src_abs)
        self._fire(Events.FOLDER_REMOVED, {"storage": STORAGE, "path": source, "name": name})
        self._fire_folder_added(target)
        return target

    def _restamp_tree(self, source, target):
        with self._lock:
            for copied in self.storage.walk_files(target):
                original = source + copied[len(target):]
                _, src_folder, src_name = self._split(original)
                _, dst_folder, dst_name = self._split(copied)
                self._restamp(self._folder_on_disk(src_folder), src_name, self._folder_on_disk(dst_folder), dst_name)

    def _fire_added(self, path):
        name = path.rpartition("/")[2]
        self._fire(Events.FILE_ADDED, {"storage": STORAGE, "path": path, "name": name, "type": self.file_type(name)})
        self._fire(Events.UPDATED_FILES, {"type": "printables"})

    def _fire_folder_added(self, path):
        self._fire(Events.FOLDER_ADDED, {"storage": STORAGE, "path": path, "name": path.rpartition("/")[2]})
        self._fire(Events.UPDATED_FILES, {"type": "printables"})

    # -- listing -------------------------------------------------------------------------------

    @_client_os_errors()
    def list_files(self, path="", recursive=True, filter=None, levels=None):
        """Entries of a folder as ``{name: entry}``; folder entries carry ``children`` as a list.

        ``filter`` is a type name ("machinecode", "model", "gcode", ...) or ``filter(name, entry)``
        deciding which files are shown. ``levels`` limits how deep folders are expanded
        (1: direct entries only, like ``recursive=False``); ``files.limits.maxDepth`` always does.
        """
        path = self.storage.normalize(path)
        self.storage.require_folder(path)
        depth = levels if levels is not None else (None if recursive else 1)
        return {entry["name"]: entry for entry in self._list(path, _file_filter(filter), depth)}

    def _list(self, folder, keep, levels):
        """Entries of ``folder`` with sub-folders expanded ``levels`` deep (None: all the way).

        A loop over a work list, not recursion, and never deeper than ``files.limits.maxDepth``
        below ``folder``, so no tree on disk can exhaust the stack here or in the JSON encoder.
        Where that limit stops a full listing, or a folder was already expanded (a symbolic link
        loop), the folder has empty ``children`` and ``truncated: true``. Folders below ``levels``
        are walked all the same and listed with empty ``children``, but with the size and prints
        of everything in them, as OctoPrint lists them.
        """
        limit = self.limits().depth
        if levels is not None and levels < limit:
            return _cut_below(self._list(folder, keep, None), levels)
        levels = limit
        folder_abs = self._folder_on_disk(folder)
        top, expanded = [], []
        seen = set()
        try:
            st = os.stat(folder_abs)
            seen.add((st.st_dev, st.st_ino))
        except OSError:
            pass
        work = [(folder, folder_abs, top, 1)]
        while work:
            rel_folder, abs_folder, entries, level = work.pop()
            metadata = self.metadata.load(abs_folder)
            for name, full, st, is_folder in self.storage.scan_folder(abs_folder):
                rel = join_path(rel_folder, name)
                if is_folder:
                    entry = folder_entry(rel, name, st)
                    entries.append(entry)
                    if level < levels and (st.st_dev, st.st_ino) not in seen:
                        seen.add((st.st_dev, st.st_ino))
                        entry["children"] = []
                        expanded.append(entry)
                        work.append((rel, full, entry["children"], level + 1))
                    else:
                        entry["children"] = []
                        entry["truncated"] = True
                    continue
                type_path = self.file_type(name)
                if type_path is None:
                    continue
                entry = self._file_entry(rel, name, st, metadata.get(name, {}), type_path)
                if keep is None or keep(name, entry):
                    entries.append(entry)
        for entry in reversed(expanded):  # children before their parents, for the sizes
            with_children(entry, entry["children"])
        return top

    def get_file(self, path, recursive=False):
        """The entry of one file or folder (folders with their direct children, or all with
        ``recursive``), or None if there is nothing at ``path``."""
        path, folder, name = self._split(path)
        try:
            full = self.storage.resolve(path)
            st = os.stat(full)
        except (OSError, StorageError):
            return None
        if os.path.isdir(full):
            if not path:
                name = ""
            return with_children(folder_entry(path, name, st), self._list(path, None, None if recursive else 1))
        type_path = self.file_type(name)
        if type_path is None:
            return None
        return self._file_entry(path, name, st, self.metadata.get(self._folder_on_disk(folder), name), type_path)

    def _file_entry(self, path, name, st, md, type_path):
        if needs_analysis(md, st):
            self._analyse_in_background(path, type_path)
        return file_entry(path, name, st, md, type_path)

    # -- metadata ------------------------------------------------------------------------------

    @_client_os_errors()
    def get_metadata(self, path):
        """Everything stored about a file (analysis, slicer data, prints, additional keys); the
        analysis and hash only while they belong to the file as it is now."""
        path, folder, name = self._split(path)
        st = os.stat(self.storage.require_file(path))
        return current_metadata(self.metadata.get(self._folder_on_disk(folder), name), st)

    def set_additional_metadata(self, path, key, data, overwrite=False, merge=False):
        """Store a plugin's ``data`` under ``key``; returns False if it exists and neither
        ``overwrite`` nor ``merge`` (dicts) was asked for."""
        if not isinstance(key, str) or not key or key in RESERVED_KEYS:
            raise InvalidName(f"metadata key not allowed: {key!r}", path)
        path, folder, name = self._split(path)
        self.storage.require_file(path)

        def change(md):
            if key in md and not overwrite:
                if not merge or not isinstance(md[key], dict) or not isinstance(data, dict):
                    return False
                md[key] = {**md[key], **data}
                return True
            md[key] = data
            return True

        with self._lock:
            return self.metadata.update(self._folder_on_disk(folder), name, change)

    def remove_additional_metadata(self, path, key):
        if key in RESERVED_KEYS:
            raise InvalidName(f"metadata key not allowed: {key!r}", path)
        path, folder, name = self._split(path)
        self.storage.require_file(path)
        with self._lock:
            self.metadata.update(self._folder_on_disk(folder), name, lambda md: md.pop(key, None))

    def record_print(self, path, success, print_time, timestamp=None, printer_profile=None):
        """Count a finished (``success``) or failed print of ``path`` in its statistics."""
        path, folder, name = self._split(path)
        self.storage.require_file(path)
        timestamp = time.time() if timestamp is None else timestamp
        profile_id = printer_profile.get("id") if isinstance(printer_profile, dict) else printer_profile

        def change(md):
            add_print(md, success, print_time, timestamp, profile_id)

        with self._lock:
            self.metadata.update(self._folder_on_disk(folder), name, change)
        self._fire(Events.METADATA_STATISTICS_UPDATED, {"storage": STORAGE, "path": path})

    def get_thumbnail_path(self, path, name=None):
        """On-disk path of a thumbnail of ``path`` (by its ``name``, default the largest), or None."""
        path, folder, file_name = self._split(path)
        if not self.storage.is_file(path):
            return None
        folder_abs = self._folder_on_disk(folder)
        md = self.metadata.get(folder_abs, file_name)
        thumbnails = md.get("thumbnails") or []
        if name is None:
            if not thumbnails:
                return None
            name = max(thumbnails, key=lambda t: (t["format"] == "png", t["width"] * t["height"]))["name"]
        elif not any(t["name"] == name for t in thumbnails):
            return None
        full = os.path.join(self.metadata.thumbs_folder(folder_abs, file_name), name)
        return full if os.path.isfile(full) else None

    # -- analysis ------------------------------------------------------------------------------

    def analyse(self, path, high_priority=False, printer_profile=None):
        """Queue (re)analysis of a file; False if no analyser handles its type."""
        path, _, name = self._split(path)
        full = self.storage.require_file(path)
        type_path = self.file_type(name)
        if not self.analysis.handles(type_path):
            return False
        if printer_profile is None and self.printer_profile_manager is not None:
            printer_profile = self.printer_profile_manager.get_current_or_default()
        entry = QueueEntry(name, path, type_path[-1], STORAGE, full, printer_profile, None)
        return self.analysis.enqueue(entry, stamp(os.stat(full)), high_priority=high_priority)

    def _analyse_in_background(self, path, type_path):
        if not self.analysis.handles(type_path) or self.analysis.is_pending(path):
            return
        try:
            self.analyse(path)
        except StorageError:
            pass

    def wait_for_analysis(self, path, timeout):
        """Block until ``path`` has a current analysis; True if it has one, False on failure/timeout.

        Queues the analysis if it is neither done nor pending.
        """
        path = self.storage.normalize(path)
        if not self.analysis.is_pending(path) and not self._has_analysis(path):
            self.analyse(path)
        return self.analysis.wait(path, timeout) and self._has_analysis(path)

    def _has_analysis(self, path):
        _, folder, name = self._split(path)
        try:
            st = os.stat(self.storage.require_file(path))
        except (OSError, StorageError):
            return False
        md = self.metadata.get(self._folder_on_disk(folder), name)
        return "analysis" in md and is_current(md, st)

    def is_analysing(self, path=None):
        return self.analysis.is_pending(None if path is None else self.storage.normalize(path))

    def pause_analysis(self):
        """Hold back further analyses (the printer calls this while printing)."""
        self.analysis.pause()

    def resume_analysis(self):
        self.analysis.resume()

    def _on_analysis_started(self, entry):
        self._fire(Events.METADATA_ANALYSIS_STARTED, {"name": entry.name, "path": entry.path, "origin": STORAGE,
                                                      "type": self.file_type(entry.name)})

    def _on_analysis_finished(self, entry, outcome, queued_stamp):
        with self._lock:
            stored = self._store_outcome(entry, outcome, queued_stamp)
        if stored and outcome is not None:
            self._fire(Events.METADATA_ANALYSIS_FINISHED, {"name": entry.name, "path": entry.path, "origin": STORAGE,
                                                           "result": outcome.analysis})
            self._fire(Events.UPDATED_FILES, {"type": "printables"})

    def _store_outcome(self, entry, outcome, queued_stamp):
        """Keep the result if it belongs to the file as it is now; True if it was stored."""
        _, folder, name = self._split(entry.path)
        try:
            folder_abs = self._folder_on_disk(folder)
            current = stamp(os.stat(os.path.join(folder_abs, name)))
        except (OSError, StorageError):
            return False
        analysed = outcome.stamp if outcome is not None and outcome.stamp else queued_stamp
        if analysed != current:
            log.info("%s changed while it was analysed; analysing it again", entry.path)
            try:
                self.analyse(entry.path)
            except StorageError:
                pass
            return False
        thumbnails = self.metadata.write_thumbnails(folder_abs, name, outcome.thumbnails) if outcome else []
        self.metadata.update(folder_abs, name, lambda md: apply_analysis(md, outcome, current, thumbnails))
        return True

    # -- lifecycle -----------------------------------------------------------------------------

    def _fire(self, event, payload):
        if self.event_bus is not None:
            self.event_bus.fire(event, payload)

    def shutdown(self, timeout=10.0):
        """Stop the analysis queues and their worker processes."""
        self.analysis.shutdown(timeout)


def _cut_below(entries, levels):
    """``entries`` (a full listing) with the folders ``levels`` deep listed without children."""
    work = [(entries, 1)]
    while work:
        listed, level = work.pop()
        for entry in listed:
            if "children" not in entry:
                continue
            if level >= levels:
                entry["children"] = []
            else:
                work.append((entry["children"], level + 1))
    return entries


def _display_name(path, display):
    if display:
        return display
    return str(path).replace("\\", "/").rstrip("/").rpartition("/")[2]


def _file_filter(filter):
    if filter is None or callable(filter):
        return filter
    if isinstance(filter, str):
        return lambda name, entry: filter in entry["typePath"]
    raise TypeError("filter must be a type name or a callable(name, entry)")


def _md5_of(path):
    import hashlib

    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(storage_module.CHUNK_SIZE), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _close_quietly(stream):
    try:
        stream.close()
    except Exception:
        pass
