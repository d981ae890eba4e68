"""Files and folders on disk under one root, with names sanitized and paths confined.

Paths are relative and "/"-separated. Every path is resolved through
:func:`octohost.util.fs.confined_path`, so ``..``, absolute paths and symlinks that lead out of
the root are refused; names starting with a dot are internal (temp files, metadata, thumbnails)
and neither listed nor addressable. Files arrive through a temp file in the target folder and a
rename, so a reader sees the old file or the new one, never a part. Whole trees are removed,
copied and searched with :mod:`.tree`, which copes with any depth (how deep new paths may go is
the manager's business, :mod:`.limits`).
"""

import errno
import hashlib
import logging
import os
import re
import stat
import tempfile
import time
import unicodedata

from octohost.util.fs import TEMP_NAME, PathEscapeError, confined_path

from . import tree
from .errors import AlreadyExists, InvalidName, NotEmpty, NotFound, PathEscape, UploadFailed, shorten

log = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024
#: longest path (in characters) accepted at all: nothing longer can exist below the root (PATH_MAX),
#: and resolving it would cost time for nothing
MAX_ADDRESS = 4096
#: characters of a file's name kept in the name of its temp file, which must stay within NAME_MAX
TEMP_NAME_KEEP = 64
LEFTOVER_FOLDERS = (".removing.", ".copying.")
ALLOWED_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.()[]+")
FILE_MODE = 0o644


def sanitize_name(name):
    """An ASCII-only, space-free version of one path component; raises InvalidName if nothing is left."""
    if name is None or not isinstance(name, str):
        raise InvalidName(f"invalid name {name!r}")
    if "/" in name or "\\" in name:
        raise InvalidName(f"a name may not contain a path separator: {name!r}")
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = re.sub(r"\s+", "_", ascii_name.strip())
    cleaned = "".join(c for c in ascii_name if c in ALLOWED_CHARACTERS)
    if cleaned.startswith(".") and not name.strip().startswith("."):
        raise InvalidName(f"nothing usable left of the name {name!r} before its extension")
    cleaned = cleaned.lstrip(".")
    if not cleaned:
        raise InvalidName(f"nothing usable left of the name {name!r}")
    return cleaned


def split_path(path):
    """Components of a relative path; refuses absolute paths, ``..`` and NUL bytes."""
    if path is None:
        return []
    if not isinstance(path, str):
        raise InvalidName(f"invalid path {path!r}")
    if len(path) > MAX_ADDRESS:
        raise InvalidName(f"path {shorten(path)} is longer than {MAX_ADDRESS} characters", path)
    normalized = path.replace("\\", "/")
    if normalized.startswith("/") or "\x00" in normalized:
        raise PathEscape(f"path not allowed: {path!r}", path)
    parts = [p for p in normalized.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise PathEscape(f"path not allowed: {path!r}", path)
    return parts


def join_path(*parts):
    return "/".join(p for p in parts if p)


class LocalStorage:
    """The uploads folder: resolve, write, move, copy, remove and scan."""

    def __init__(self, root):
        self.root = os.path.realpath(root)
        os.makedirs(self.root, exist_ok=True)

    # -- names and paths -----------------------------------------------------------------------

    def sanitize_path(self, path):
        """The stored form of ``path``: every component sanitized, joined with "/"."""
        return join_path(*(sanitize_name(p) for p in split_path(path)))

    def normalize(self, path):
        """``path`` as given, checked (no escape, no hidden component) and with "/" separators."""
        parts = split_path(path)
        for part in parts:
            if part.startswith("."):
                raise InvalidName(f"hidden names are not addressable: {path!r}", path)
        return join_path(*parts)

    def resolve(self, path):
        """Absolute on-disk path of ``path`` inside the root; raises PathEscape when it leads outside."""
        relative = self.normalize(path)
        try:
            return confined_path(self.root, relative)
        except PathEscapeError:
            raise PathEscape(f"path leads outside the storage: {path!r}", path) from None

    def relative(self, absolute):
        rel = os.path.relpath(absolute, self.root)
        return "" if rel == "." else rel.replace(os.sep, "/")

    def is_file(self, path):
        try:
            return os.path.isfile(self.resolve(path))
        except (PathEscape, InvalidName):
            return False

    def is_folder(self, path):
        try:
            return os.path.isdir(self.resolve(path))
        except (PathEscape, InvalidName):
            return False

    def require_file(self, path):
        target = self.resolve(path)
        if not os.path.isfile(target):
            raise NotFound(f"no such file: {path!r}", path)
        return target

    def require_folder(self, path):
        target = self.resolve(path)
        if not os.path.isdir(target):
            raise NotFound(f"no such folder: {path!r}", path)
        return target

    # -- writing files -------------------------------------------------------------------------

    def write_stream(self, path, stream, allow_overwrite=False):
        """Copy ``stream`` to ``path`` chunk by chunk, atomically; returns (size, md5 hex).

        A stream that fails mid-way raises UploadFailed and leaves no trace; an existing file is
        replaced only with ``allow_overwrite`` (checked again at the final rename).
        """
        target = self._prepare_target(path, allow_overwrite)
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target)[:TEMP_NAME_KEEP] + ".", suffix=".upload",
                                   dir=os.path.dirname(target))
        digest = hashlib.md5()
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                while True:
                    try:
                        chunk = stream.read(CHUNK_SIZE)
                    except Exception as exc:
                        raise UploadFailed(f"reading the upload for {path!r} failed: {exc}", path) from exc
                    if not chunk:
                        break
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, FILE_MODE)
            self._commit(tmp, target, path, allow_overwrite)
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return size, digest.hexdigest()

    def move_into_place(self, path, source, allow_overwrite=False):
        """Rename ``source`` (a file on the same filesystem) to ``path``; falls back to a copy across devices."""
        target = self._prepare_target(path, allow_overwrite)
        if not os.path.isfile(source):
            raise NotFound(f"no such source file: {source!r}", path)
        try:
            os.chmod(source, FILE_MODE)
            self._commit(source, target, path, allow_overwrite)
            return None
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        with open(source, "rb") as stream:
            result = self.write_stream(path, stream, allow_overwrite)
        _unlink_quietly(source)
        return result

    def _prepare_target(self, path, allow_overwrite):
        target = self.resolve(path)
        if target == self.root:
            raise InvalidName("a file needs a name", path)
        if os.path.isdir(target):
            raise AlreadyExists(f"a folder of that name exists: {path!r}", path)
        if os.path.exists(target) and not allow_overwrite:
            raise AlreadyExists(f"file exists and overwriting was not allowed: {path!r}", path)
        parent = os.path.dirname(target)
        try:
            os.makedirs(parent, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise AlreadyExists(f"a file is in the way of folder {self.relative(parent)!r}", path) from None
        return target

    def _commit(self, tmp, target, path, allow_overwrite):
        """Put ``tmp`` at ``target``: replace if allowed, otherwise link (fails if it exists) and unlink."""
        if allow_overwrite:
            if os.path.isdir(target):
                raise AlreadyExists(f"a folder of that name exists: {path!r}", path)
            os.replace(tmp, target)
            return
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise AlreadyExists(f"file exists and overwriting was not allowed: {path!r}", path) from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if os.path.exists(target):
                raise AlreadyExists(f"file exists and overwriting was not allowed: {path!r}", path) from None
            os.replace(tmp, target)
            return
        os.unlink(tmp)

    # -- folders, copy, move, remove -----------------------------------------------------------

    def make_folder(self, path, ignore_existing=True):
        target = self.resolve(path)
        if os.path.isdir(target):
            if not ignore_existing:
                raise AlreadyExists(f"folder exists: {path!r}", path)
            return target
        if os.path.lexists(target):
            raise AlreadyExists(f"a file of that name exists: {path!r}", path)
        try:
            os.makedirs(target)
        except FileExistsError:
            raise AlreadyExists(f"a file is in the way of {path!r}", path) from None
        except NotADirectoryError:
            raise AlreadyExists(f"a file is in the way of {path!r}", path) from None
        return target

    def remove_file(self, path):
        os.unlink(self.require_file(path))

    def remove_folder(self, path, recursive=True):
        target = self.require_folder(path)
        if target == self.root:
            raise InvalidName("the root folder cannot be removed", path)
        if not recursive and any(not n.startswith(".") for n in os.listdir(target)):
            raise NotEmpty(f"folder is not empty: {path!r}", path)
        # rename first, so the folder vanishes at once even if deleting its content takes a while
        doomed = tempfile.mkdtemp(prefix=LEFTOVER_FOLDERS[0], dir=self.root)
        os.rename(target, os.path.join(doomed, "folder"))
        _remove_tree_quietly(doomed)

    def copy_file(self, source, destination):
        src = self.require_file(source)
        with open(src, "rb") as stream:
            return self.write_stream(destination, stream, allow_overwrite=False)

    def move_file(self, source, destination):
        src = self.require_file(source)
        target = self._prepare_target(destination, allow_overwrite=False)
        self._commit_move(src, target, destination)

    def copy_folder(self, source, destination):
        src = self.require_folder(source)
        target = self._prepare_folder_target(src, destination)
        staging = tempfile.mkdtemp(prefix=LEFTOVER_FOLDERS[1], dir=os.path.dirname(target))
        try:
            tree.copy_tree(os.path.realpath(src), os.path.join(staging, "folder"))
            os.rename(os.path.join(staging, "folder"), target)
        finally:
            _remove_tree_quietly(staging)

    def move_folder(self, source, destination):
        src = self.require_folder(source)
        target = self._prepare_folder_target(src, destination)
        os.rename(src, target)

    def _prepare_folder_target(self, src, destination):
        if src == self.root:
            raise InvalidName("the root folder cannot be copied or moved", destination)
        target = self.resolve(destination)
        if os.path.lexists(target):
            raise AlreadyExists(f"destination exists: {destination!r}", destination)
        if target.startswith(src + os.sep):
            raise InvalidName(f"a folder cannot go inside itself: {destination!r}", destination)
        parent = os.path.dirname(target)
        if not os.path.isdir(parent):
            raise NotFound(f"no such folder: {self.relative(parent)!r}", destination)
        return target

    def _commit_move(self, src, target, destination):
        try:
            os.link(src, target)
        except FileExistsError:
            raise AlreadyExists(f"destination exists: {destination!r}", destination) from None
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
                raise
            if os.path.exists(target):
                raise AlreadyExists(f"destination exists: {destination!r}", destination) from None
            os.rename(src, target)
            return
        os.unlink(src)

    # -- leftovers -----------------------------------------------------------------------------

    def remove_leftovers(self, older_than=3600.0, max_depth=None):
        """Delete temp files and half-removed folders an interrupted process left behind.

        The temp files of an interrupted :func:`~octohost.util.fs.atomic_write` (metadata,
        thumbnails) go whatever their age: such a write lasts milliseconds. Other temp files and
        half-removed folders go only when older than ``older_than`` seconds go, so another process's upload in progress
        is never touched. The search goes ``max_depth`` levels deep (the depth new paths may
        have, which is where temp files are made), so start-up stays quick below a tree that is
        deeper; a half-removed folder it finds is removed however deep it goes.
        """
        cutoff = time.time() - older_than
        try:
            steps = tree.walk(self.root, max_depth=max_depth)
            for event, _parts, fd, folders, others in steps:
                if event != tree.ENTER:
                    continue
                for name in others:
                    if TEMP_NAME.match(name):  # an atomic write killed mid-way: never in progress at start-up
                        _unlink_quietly(name, dir_fd=fd)
                    elif name.startswith(".") and name.endswith((".upload", ".tmp")) and _older(name, fd, cutoff):
                        _unlink_quietly(name, dir_fd=fd)
                for name in [n for n in folders if n.startswith(LEFTOVER_FOLDERS)]:
                    folders.remove(name)
                    if _older(name, fd, cutoff):
                        _remove_tree_quietly(name, dir_fd=fd)
        except OSError as exc:
            log.warning("could not look for leftovers in %s: %s", self.root, exc)

    # -- scanning ------------------------------------------------------------------------------

    def scan(self, path=""):
        """(name, absolute path, stat result, is folder) of the visible entries of a folder, by name.

        Symlinks leading outside the root and anything neither file nor folder are left out.
        """
        return self.scan_folder(self.require_folder(path))

    def scan_folder(self, folder):
        """:meth:`scan` of a folder given by its absolute path (one :meth:`scan` returned), which
        spares resolving its path again: a walk calls this once per folder."""
        entries = []
        try:
            names = os.listdir(folder)
        except OSError:
            return entries
        for name in sorted(names):
            if name.startswith("."):
                continue
            full = os.path.join(folder, name)
            if os.path.islink(full):
                real = os.path.realpath(full)
                if real != self.root and not real.startswith(self.root + os.sep):
                    continue
            try:
                st = os.stat(full)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                entries.append((name, full, st, True))
            elif stat.S_ISREG(st.st_mode):
                entries.append((name, full, st, False))
        return entries

    def walk_files(self, path=""):
        """Relative paths of everything visible below ``path`` that is not a folder, at any depth
        (symbolic links are named, not followed)."""
        base = self.normalize(path)
        for event, parts, _fd, folders, others in tree.walk(self._real_folder(base)):
            if event != tree.ENTER:
                continue
            folders[:] = [name for name in folders if not name.startswith(".")]
            for name in others:
                if not name.startswith("."):
                    yield join_path(base, *parts, name)

    def extent(self, path, max_depth):
        """``(depth, length)`` of the visible tree below the folder ``path`` (see :func:`.tree.extent`)."""
        return tree.extent(self._real_folder(path), max_depth, include=lambda name: not name.startswith("."))

    def _real_folder(self, path):
        """The folder ``path`` with symbolic links resolved (within the root, as :meth:`resolve`
        checked): tree walks never follow links, but one given by name is meant."""
        return os.path.realpath(self.require_folder(path))


def _older(name, dir_fd, cutoff):
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mtime < cutoff
    except OSError:
        return False


def _unlink_quietly(path, dir_fd=None):
    try:
        os.unlink(path, dir_fd=dir_fd)
    except OSError:
        pass


def _remove_tree_quietly(path, dir_fd=None):
    """Remove a folder of ours (a half-removed or staging one); what stays is retried at the next start."""
    try:
        tree.remove_tree(path, dir_fd=dir_fd)
    except OSError as exc:
        log.warning("could not remove all of %s: %s", path, exc)
