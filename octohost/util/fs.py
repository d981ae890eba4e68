"""Filesystem helpers shared by every store: atomic writes and confined paths."""

import logging
import os
import re
import tempfile

log = logging.getLogger(__name__)

#: the names of atomic_write's temp files: "." + target name + "." + mkstemp's 8 random characters
#: + ".tmp"; nothing else in our folders looks like that
TEMP_NAME = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def atomic_write(path, data, mode=0o644):
    """Replace ``path`` with ``data`` (str or bytes) so readers see the old or the new file, never half.

    Writes a temp file in the same folder, fsyncs it, then renames it over the target. A process
    killed in between leaves the temp file behind; :func:`remove_stale_temp_files` clears those.
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    binary = isinstance(data, (bytes, bytearray))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)


def remove_stale_temp_files(folder, recursive=False):
    """Delete the temp files :func:`atomic_write` left in ``folder`` (and below it if ``recursive``)
    when a process died mid-write; only at start-up, before anything writes there. Returns their paths."""
    removed = []
    for root, _dirs, files in os.walk(folder) if recursive else [(folder, [], _names(folder))]:
        for name in files:
            if TEMP_NAME.match(name):
                path = os.path.join(root, name)
                try:
                    if os.path.isfile(path) and not os.path.islink(path):
                        os.unlink(path)
                        removed.append(path)
                except OSError as exc:
                    log.warning("could not remove the stale temp file %s: %s", path, exc)
    if removed:
        log.info("removed %d temp file(s) left by an interrupted write in %s", len(removed), folder)
    return removed


def _names(folder):
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class PathEscapeError(ValueError):
    """A user-supplied path points outside the folder it must stay in."""


def confined_path(root, relative):
    """Join ``relative`` onto ``root`` and refuse anything that resolves outside ``root``.

    Rejects absolute paths, ``..`` segments and symlinks that lead elsewhere.
    """
    if relative is None:
        relative = ""
    relative = str(relative).replace("\\", "/")
    if relative.startswith("/") or "\x00" in relative:
        raise PathEscapeError(f"path not allowed: {relative!r}")
    parts = [p for p in relative.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise PathEscapeError(f"path not allowed: {relative!r}")
    real_root = os.path.realpath(root)
    candidate = os.path.join(real_root, *parts) if parts else real_root
    resolved = os.path.realpath(candidate)
    if resolved != real_root and not resolved.startswith(real_root + os.sep):
        raise PathEscapeError(f"path not allowed: {relative!r}")
    return candidate
