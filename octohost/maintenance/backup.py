"""Backups of a base folder as one zip archive, and restoring one, with the backup hooks.

What goes in: the settings file, ``users.yaml`` and the configured folders ``printerProfiles``,
``scripts``, ``data`` (print history, sessions, recovery data, plugin data), ``plugins`` and,
unless excluded, ``uploads`` and ``timelapse``. Never: logs, the backups themselves, lock files and temp files.
The archive holds ``metadata.json`` (octohost's version, the base folder's format version, what
was excluded) and everything else under ``basedir/``, as OctoPrint's backups do.

The hook reference's backup hooks are called as OctoPrint calls them:
``plugin.backup.additional_excludes(excludes)`` (paths in the plugin's data folder to leave out,
``"."`` for all of it), ``plugin.backup.before_backup()``, ``plugin.backup.after_backup(error=)``,
``plugin.backup.before_restore()`` and ``plugin.backup.after_restore(error=)``.

A restore checks the whole archive before touching anything (names confined to ``basedir/``, no
links, bounded count and size, settings that load, a format this octohost knows), unpacks it next
to the base folder, then swaps each item in, keeping the old one until all are in: a failure puts
everything back as it was.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import os
import shutil
import stat
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

import yaml

from octohost import __version__
from octohost.files.tree import ENTER, remove_tree, walk
from octohost.util.fs import TEMP_NAME

log = logging.getLogger(__name__)

ARCHIVE_FORMAT = 1
ROOT = "basedir"
METADATA = "metadata.json"
#: folders (``folder.<name>`` settings) that a backup holds, in archive order
FOLDERS = ("printerProfiles", "scripts", "data", "plugins", "uploads", "timelapse")
#: what a client may leave out
EXCLUDABLE = frozenset({"uploads", "plugins", "history", "timelapse"})
BACKUP_FOLDER = ("data", "backup")  # where backups are kept: BASEDIR/data/backup, as OctoPrint's plugin
NAME_PREFIX = "octohost-backup-"
#: bounds on what a restore accepts: members, and bytes unpacked (besides the free disk space check)
MAX_MEMBERS = 200_000
MAX_RATIO = 200  # a member unpacking to more than 200x its packed size is a zip bomb, not a backup
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go ahead; ``status`` is the HTTP answer that fits."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def backup_name(now: datetime.datetime | None = None) -> str:
    now = now or datetime.datetime.now()
    return f"{NAME_PREFIX}{now.strftime('%Y%m%d-%H%M%S')}.zip"


def _skipped_name(name: str) -> bool:
    return name.endswith(".lock") or bool(TEMP_NAME.match(name)) or name.startswith(".upload-")


class BackupManager:
    """Creates, lists, deletes and restores the backups of one base folder."""

    def __init__(self, settings: Any, plugin_manager: Any = None,
                 config_version: Callable[[], int] | None = None) -> None:
        self.settings = settings
        self.plugin_manager = plugin_manager
        self._config_version = config_version
        self._busy = threading.Lock()

    # -- where things are -----------------------------------------------------------------------

    @property
    def folder(self) -> str:
        path = os.path.join(self.settings.folder(BACKUP_FOLDER[0]), BACKUP_FOLDER[1])
        os.makedirs(path, exist_ok=True)
        return path

    def _items(self) -> list[tuple[str, str]]:
        """(name in the archive below ``basedir/``, path on disk) of everything a backup holds."""
        items = [("config.yaml", self.settings.config_path),
                 ("users.yaml", os.path.join(self.settings.basedir, "users.yaml"))]
        items += [(name, self.settings.folder(name)) for name in FOLDERS]
        return items

    def path_of(self, name: str) -> str:
        """The path of backup ``name`` in the backup folder; BackupError(404) for anything else."""
        if (not name or os.path.basename(name) != name or name.startswith(".") or not name.endswith(".zip")
                or len(name.encode("utf-8", "surrogateescape")) > 255):
            raise BackupError(f"no such backup: {name!r}", 404)
        path = os.path.join(self.folder, name)
        if not os.path.isfile(path):
            raise BackupError(f"no such backup: {name!r}", 404)
        return path

    # -- hooks ------------------------------------------------------------------------------------

    def _call(self, hook: str, *args: Any, **kwargs: Any) -> list[tuple[str, Any]]:
        if self.plugin_manager is None:
            return []
        return self.plugin_manager.call(hook, *args, **kwargs)

    def _plugin_excludes(self, excludes: list[str]) -> list[str]:
        """Paths below ``data/`` (archive names) that plugins ask to leave out."""
        out = []
        for identifier, result in self._call("plugin.backup.additional_excludes", list(excludes)):
            if not isinstance(result, list):
                continue
            if "." in result:
                out.append(f"data/{identifier}")
            else:
                out += [f"data/{identifier}/{str(p).strip('/')}" for p in result if isinstance(p, str) and p.strip("/")]
        return out

    # -- listing and deleting ---------------------------------------------------------------------

    def list(self) -> list[dict[str, Any]]:
        backups = []
        with os.scandir(self.folder) as entries:
            for entry in entries:
                if entry.name.startswith(".") or not entry.name.endswith(".zip") or not entry.is_file():
                    continue
                st = entry.stat()
                backups.append({"name": entry.name, "date": int(st.st_mtime), "size": st.st_size})
        return sorted(backups, key=lambda b: (b["date"], b["name"]), reverse=True)

    def delete(self, name: str) -> None:
        os.unlink(self.path_of(name))

    # -- creating ---------------------------------------------------------------------------------

    def create(self, exclude: Iterable[str] = (), name: str | None = None) -> str:
        """Write a backup into the backup folder; returns its path."""
        exclude = sorted(set(exclude))
        unknown = [e for e in exclude if e not in EXCLUDABLE]
        if unknown:
            raise BackupError(f"cannot exclude {', '.join(map(repr, unknown))}: "
                              f"choose from {', '.join(sorted(EXCLUDABLE))}")
        if not self._busy.acquire(blocking=False):
            raise BackupError("a backup or restore is already running", 409)
        try:
            name = name or backup_name()
            final = os.path.join(self.folder, name)
            skip = {"/".join(BACKUP_FOLDER)} | set(self._plugin_excludes(exclude))
            if "uploads" in exclude:
                skip.add("uploads")
            if "plugins" in exclude:
                skip.add("plugins")
            if "timelapse" in exclude:  # the videos and the frames not rendered yet (timelapse/tmp)
                skip.add("timelapse")
            if "history" in exclude:
                skip.add("data/history.jsonl")
            self._check_space(skip)
            error = False
            self._call("plugin.backup.before_backup")
            fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED,
                                                                allowZip64=True) as archive:
                    metadata = {"format": ARCHIVE_FORMAT, "version": __version__, "excludes": exclude,
                                "configVersion": self._config_version() if self._config_version else None,
                                "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
                    archive.writestr(METADATA, json.dumps(metadata, indent=2))
                    for arcname, path in self._items():
                        if arcname not in skip:
                            self._add(archive, arcname, path, skip)
                os.replace(temporary, final)
            except BaseException:
                error = True
                try:
                    os.unlink(temporary)
                except OSError:
                    pass
                raise
            finally:
                self._call("plugin.backup.after_backup", error=error)
            log.info("backup written: %s", final)
            return final
        finally:
            self._busy.release()

    def _check_space(self, skip: set[str]) -> None:
        need = 0
        for arcname, path in self._items():
            if arcname in skip:
                continue
            if os.path.isfile(path):
                need += os.path.getsize(path)
            elif os.path.isdir(path):
                for event, _parts, fd, _folders, others in walk(path):
                    if event == ENTER:
                        for other in others:
                            try:
                                need += os.stat(other, dir_fd=fd, follow_symlinks=False).st_size
                            except OSError:
                                pass
        free = shutil.disk_usage(self.folder).free
        if need > free:  # compression ratio is unknown: assume none, as OctoPrint does
            raise BackupError(f"not enough free disk space for a backup: need up to {need} bytes, "
                              f"{free} free", 507)

    def _add(self, archive: zipfile.ZipFile, arcname: str, path: str, skip: set[str]) -> None:
        if os.path.isfile(path) and not os.path.islink(path):
            archive.write(path, f"{ROOT}/{arcname}")
            return
        if not os.path.isdir(path):
            return
        for event, parts, fd, folders, others in walk(path):
            if event != ENTER:
                continue
            prefix = "/".join((arcname, *parts))
            folders[:] = [f for f in folders if f"{prefix}/{f}" not in skip]
            if not others and not folders:
                archive.writestr(f"{ROOT}/{prefix}/", b"")  # keep empty folders
            for name in others:
                member = f"{prefix}/{name}"
                if member in skip or _skipped_name(name):
                    continue
                try:
                    file_fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=fd)
                except OSError:  # a link, a socket, gone meanwhile: nothing to keep
                    continue
                with os.fdopen(file_fd, "rb") as source:
                    st = os.fstat(source.fileno())
                    if not stat.S_ISREG(st.st_mode):
                        continue
                    info = zipfile.ZipInfo(f"{ROOT}/{member}",
                                           datetime.datetime.fromtimestamp(st.st_mtime).timetuple()[:6])
                    info.compress_type = zipfile.ZIP_DEFLATED
                    info.external_attr = (stat.S_IFREG | stat.S_IMODE(st.st_mode)) << 16
                    with archive.open(info, "w", force_zip64=True) as target:
                        shutil.copyfileobj(source, target, CHUNK)

    # -- restoring --------------------------------------------------------------------------------

    def check_archive(self, path: str) -> dict[str, Any]:
        """Everything a restore checks before it touches the base folder; returns the metadata."""
        try:
            archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise BackupError(f"not a backup archive: {exc}") from None
        with archive:
            try:
                metadata = json.loads(archive.read(METADATA))
            except KeyError:
                raise BackupError(f"not an octohost backup: {METADATA} is missing") from None
            except ValueError as exc:
                raise BackupError(f"not an octohost backup: {METADATA}: {exc}") from None
            found = metadata.get("format") if isinstance(metadata, dict) else None
            if found != ARCHIVE_FORMAT:
                raise BackupError(f"unsupported backup format {found!r} (this octohost reads format {ARCHIVE_FORMAT})")
            ours = self._config_version() if self._config_version else None
            theirs = metadata.get("configVersion")
            if isinstance(theirs, int) and isinstance(ours, int) and theirs > ours:
                raise BackupError(f"the backup comes from a newer octohost (base folder format {theirs}, "
                                  f"this one knows up to {ours}): upgrade octohost first")
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise BackupError(f"the archive has {len(members)} entries; at most {MAX_MEMBERS} are accepted")
            known = {arcname for arcname, _ in self._items()}
            total = 0
            for info in members:
                if info.filename == METADATA:
                    continue
                parts = info.filename.rstrip("/").split("/")
                if (parts[0] != ROOT or len(parts) < 2 or parts[1] not in known or "\\" in info.filename
                        or any(p in ("", ".", "..") for p in parts) or info.filename.startswith("/")):
                    raise BackupError(f"the archive holds an entry outside the base folder: {info.filename!r}")
                mode = info.external_attr >> 16
                if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                    raise BackupError(f"the archive holds a link or special file: {info.filename!r}")
                if info.compress_size and info.file_size > MAX_RATIO * info.compress_size + CHUNK:
                    raise BackupError(f"the archive's entry {info.filename!r} unpacks to {info.file_size} bytes "
                                      f"from {info.compress_size}: refused")
                total += info.file_size
            free = shutil.disk_usage(self.settings.basedir).free
            if total > free:
                raise BackupError(f"not enough free disk space to restore: {total} bytes needed, {free} free", 507)
            if f"{ROOT}/config.yaml" in archive.namelist():
                self._check_settings(archive.read(f"{ROOT}/config.yaml"))
        return metadata

    def _check_settings(self, text: bytes) -> None:
        from octohost.settings import Settings, SettingsError

        with tempfile.TemporaryDirectory(prefix=".restore-check-", dir=self.settings.basedir) as scratch:
            path = os.path.join(scratch, "config.yaml")
            with open(path, "wb") as f:
                f.write(text)
            try:
                from octohost.settings.migrate import migrate_settings_file

                migrate_settings_file(path, keep_backup=False)
                Settings(scratch, path)
            except (SettingsError, ValueError) as exc:
                raise BackupError(f"the backup's settings do not load: {exc}") from None

    def restore(self, path: str) -> dict[str, Any]:
        """Replace the base folder's contents with the archive's; returns its metadata."""
        if not self._busy.acquire(blocking=False):
            raise BackupError("a backup or restore is already running", 409)
        try:
            metadata = self.check_archive(path)
            error = False
            self._call("plugin.backup.before_restore")
            try:
                self._swap_in(path)
            except BaseException:
                error = True
                raise
            finally:
                self._call("plugin.backup.after_restore", error=error)
            log.info("restored the base folder from %s (octohost %s)", path, metadata.get("version"))
            return metadata
        finally:
            self._busy.release()

    def _swap_in(self, path: str) -> None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        staging = os.path.join(self.settings.basedir, f".restore-{stamp}")
        keep = os.path.join(self.settings.basedir, f".before-restore-{stamp}")
        os.makedirs(staging)
        os.makedirs(keep)
        moved: list[tuple[str, str]] = []  # (kept copy, original place)
        placed: list[str] = []
        try:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    if info.filename == METADATA:
                        continue
                    target = os.path.join(staging, *info.filename.rstrip("/").split("/")[1:])
                    if info.is_dir():
                        os.makedirs(target, exist_ok=True)
                        continue
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with archive.open(info) as source, open(target, "wb") as out:
                        shutil.copyfileobj(source, out, CHUNK)
                    mode = stat.S_IMODE(info.external_attr >> 16)
                    if mode:
                        os.chmod(target, mode & 0o777)
            for arcname, place in self._items():
                staged = os.path.join(staging, arcname)
                if not os.path.lexists(staged):
                    continue  # not in the backup (excluded): keep what is there
                if os.path.lexists(place):
                    kept = os.path.join(keep, arcname)
                    shutil.move(place, kept)
                    moved.append((kept, place))
                shutil.move(staged, place)
                placed.append(place)
        except BaseException:
            for place in placed:
                _remove(place)
            for kept, place in reversed(moved):
                shutil.move(kept, place)
            raise
        finally:
            _remove(staging)
        # The backups live in data/, which was just replaced: carry them over, last, once nothing
        # can fail and roll back any more.
        old_backups = os.path.join(keep, *BACKUP_FOLDER)
        if os.path.isdir(old_backups):
            new_backups = os.path.join(self.settings.folder(BACKUP_FOLDER[0]), *BACKUP_FOLDER[1:])
            _remove(new_backups)
            shutil.move(old_backups, new_backups)
        _remove(keep)


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        remove_tree(path)
    elif os.path.lexists(path):
        os.unlink(path)


def read_metadata(path: str) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        return dict(json.loads(archive.read(METADATA)))


def settings_in_archive(path: str) -> dict[str, Any]:
    """The settings a backup holds (for tests and the CLI's summary)."""
    with zipfile.ZipFile(path) as archive:
        try:
            return yaml.safe_load(io.BytesIO(archive.read(f"{ROOT}/config.yaml"))) or {}
        except KeyError:
            return {}
