"""Filesystem helpers shared by every store: atomic writes and confined paths."""

import os
import tempfile


def atomic_write(path, data, mode=0o644):
    """Replace ``path`` with ``data`` (str or bytes) so readers see the old or the new file, never half.

    Writes a temp file in the same folder, fsyncs it, then renames it over the target.
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
