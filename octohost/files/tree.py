"""Walks over folder trees of any depth: a flat loop, one open folder at a time, no path strings.

``os.walk``, ``shutil.rmtree`` and ``shutil.copytree`` recurse once per folder level (Python
3.11), so a tree nested ~1,000 folders deep -- one upload with a long ``path`` made one -- raises
RecursionError, and any walk that joins path strings fails with ENAMETOOLONG once a path passes
PATH_MAX (4096 bytes). These walks keep an explicit stack of names, open each folder relative to
its parent (``dir_fd``), and climb back with ``..``, checking that ``..`` is the folder they came
from. So neither depth nor path length matters, and a walk holds one or two descriptors whatever
the depth (the per-process limit is often 1,024). Symbolic links are never followed.
"""

import errno
import os
import stat

ENTER = "enter"
LEAVE = "leave"

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
COPY_CHUNK = 1024 * 1024


class TreeChanged(OSError):
    """A folder was moved away while it was walked; the walk cannot find its way back up."""

    def __init__(self, where):
        super().__init__(errno.ESTALE, "folder moved during the walk", "/".join(where))


def walk(top, max_depth=None, dir_fd=None):
    """Yield ``(event, parts, fd, folders, others)`` for the folders of the tree at ``top``, depth first.

    ``ENTER`` once per folder: ``parts`` are the names leading to it from ``top`` (``()`` for
    ``top``), ``fd`` an open descriptor of it, ``folders`` the names of its sub-folders -- a list
    the caller may shrink in place to skip some, as with ``os.walk`` -- and ``others`` the names of
    everything else (files, symbolic links, ...). ``LEAVE`` once per folder below ``top`` after its
    subtree, with ``fd`` the descriptor of its parent, so it can be removed by name
    (``os.rmdir(parts[-1], dir_fd=fd)``); ``folders`` and ``others`` are None then.

    Descriptors are valid only until the next step. Folders deeper than ``max_depth`` (``top``'s
    children are at depth 1) are named in ``folders`` but not entered; a folder that cannot be
    opened or read is skipped or shown empty. ``top`` is relative to ``dir_fd`` if given.
    """
    fd = os.open(top, DIR_FLAGS, dir_fd=dir_fd)
    try:
        parts = []
        identities = [_identity(fd)]
        folders, others = _read(fd)
        yield ENTER, (), fd, folders, others
        pending = [iter(folders) if max_depth is None or max_depth > 0 else iter(())]
        while pending:
            name = next(pending[-1], None)
            if name is not None:
                try:
                    child = os.open(name, DIR_FLAGS, dir_fd=fd)
                except OSError:
                    continue
                os.close(fd)
                fd = child
                parts.append(name)
                identities.append(_identity(fd))
                folders, others = _read(fd)
                yield ENTER, tuple(parts), fd, folders, others
                deeper = max_depth is None or len(parts) < max_depth
                pending.append(iter(folders) if deeper else iter(()))
                continue
            pending.pop()
            if not parts:
                break
            fd = _climb(fd, identities[-2], parts)
            left = tuple(parts)
            parts.pop()
            identities.pop()
            yield LEAVE, left, fd, None, None
    finally:
        os.close(fd)


def remove_tree(top, dir_fd=None):
    """Remove the folder ``top`` (relative to ``dir_fd`` if given) and everything in it; raises the
    first error after trying the rest."""
    failures = []
    for event, parts, fd, _folders, others in walk(top, dir_fd=dir_fd):
        if event == ENTER:
            for name in others:
                _attempt(failures, os.unlink, name, dir_fd=fd)
        else:
            _attempt(failures, os.rmdir, parts[-1], dir_fd=fd)
    _attempt(failures, os.rmdir, top, dir_fd=dir_fd)
    if failures:
        raise failures[0]


def copy_tree(source, destination):
    """Copy the folder ``source`` to the new folder ``destination``: files with their mode and
    times, symbolic links as links; anything else (sockets, pipes) is left out."""
    os.mkdir(destination)
    target = os.open(destination, DIR_FLAGS)
    try:
        identities = [_identity(target)]
        for event, parts, fd, folders, others in walk(source):
            if event == ENTER:
                if parts:
                    child = os.open(parts[-1], DIR_FLAGS, dir_fd=target)
                    os.close(target)
                    target = child
                    identities.append(_identity(target))
                for name in folders:
                    os.mkdir(name, dir_fd=target)
                for name in others:
                    _copy_entry(name, fd, target)
            else:
                identities.pop()
                target = _climb(target, identities[-1], parts)
                _copy_times(os.stat(parts[-1], dir_fd=fd, follow_symlinks=False), parts[-1], target)
        _copy_times(os.stat(source, follow_symlinks=False), None, target)
    finally:
        os.close(target)


def extent(top, max_depth, include=None):
    """``(depth, length)`` of the tree at ``top``: how many names its deepest entry adds to
    ``top``'s path and the longest relative path in UTF-8 bytes, both looked at no deeper than
    ``max_depth`` + 1 (a depth of ``max_depth`` + 1 means "deeper than ``max_depth``").
    ``include(name)`` False leaves an entry (and what is below it) out."""
    depth = length = 0
    for event, parts, _fd, folders, others in walk(top, max_depth=max_depth):
        if event != ENTER:
            continue
        if include is not None:
            folders[:] = [n for n in folders if include(n)]
            others = [n for n in others if include(n)]
        names = folders + others
        if names:
            depth = max(depth, len(parts) + 1)
            prefix = sum(_size(p) + 1 for p in parts)
            length = max(length, prefix + max(_size(n) for n in names))
    return depth, length


def _size(name):
    return len(name.encode("utf-8", "surrogateescape"))


def _read(fd):
    """Names of the sub-folders and of everything else in the open folder ``fd``."""
    folders, others = [], []
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                try:
                    is_folder = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_folder = False
                (folders if is_folder else others).append(entry.name)
    except OSError:
        pass
    return folders, others


def _identity(fd):
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def _climb(fd, expected, parts):
    """The descriptor of the parent of the folder ``fd`` (which is closed), checked to be ``expected``."""
    parent = os.open("..", DIR_FLAGS, dir_fd=fd)
    if _identity(parent) != expected:
        os.close(parent)
        raise TreeChanged(parts)
    os.close(fd)
    return parent


def _attempt(failures, operation, *args, **kwargs):
    try:
        operation(*args, **kwargs)
    except FileNotFoundError:
        pass
    except OSError as exc:
        failures.append(exc)


def _copy_entry(name, source_fd, target_fd):
    st = os.stat(name, dir_fd=source_fd, follow_symlinks=False)
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(name, dir_fd=source_fd), name, dir_fd=target_fd)
        return
    if not stat.S_ISREG(st.st_mode):
        return
    reader = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=source_fd)
    try:
        writer = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, stat.S_IMODE(st.st_mode),
                         dir_fd=target_fd)
        try:
            while os.sendfile(writer, reader, None, COPY_CHUNK) > 0:
                pass
            os.utime(writer, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(writer)
    finally:
        os.close(reader)


def _copy_times(st, name, target_fd):
    """Give the folder ``name`` in ``target_fd`` (or ``target_fd`` itself) the mode and times of ``st``."""
    if name is None:
        os.chmod(target_fd, stat.S_IMODE(st.st_mode))
        os.utime(target_fd, ns=(st.st_atime_ns, st.st_mtime_ns))
        return
    os.chmod(name, stat.S_IMODE(st.st_mode), dir_fd=target_fd)
    os.utime(name, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=target_fd)
