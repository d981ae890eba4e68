"""Folder trees built straight on disk, deeper than any walk that recurses (or joins paths) can go."""

import os
import time

from octohost.files import tree

AGES_AGO = time.time() - 7200


def build_chain(root, levels, name="d", files=(), leftovers=()):
    """``root/name/name/...`` ``levels`` deep, made relative to open folders so no path grows past
    PATH_MAX. ``files`` and ``leftovers`` are the levels that get ``part.gcode`` and an old
    ``.part.gcode.x.upload`` temp file (as an interrupted upload leaves). Returns the chain's path
    as far as it can be written as a path."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for level in range(1, levels + 1):
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
            if level in files:
                _write(fd, "part.gcode", b"G28\n")
            if level in leftovers:
                _write(fd, ".part.gcode.x.upload", b"G2")
                os.utime(".part.gcode.x.upload", (AGES_AGO, AGES_AGO), dir_fd=fd)
    finally:
        os.close(fd)


def _write(dir_fd, name, data):
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=dir_fd)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def nesting(entries):
    """How many levels of ``children`` a listing has (1: no folder is expanded), and the deepest
    folder entries, without recursion."""
    depth, deepest, level = 0, [], entries
    while level:
        depth += 1
        folders = [e for e in level if e.get("type") == "folder"]
        deepest = folders or deepest
        level = [child for e in folders for child in e.get("children", [])]
    return depth, deepest


def remove_all(folder):
    """Remove ``folder`` however deep it goes: pytest's own clean-up of old temp folders recurses
    and would fail on these trees (in every later run on the machine)."""
    if os.path.isdir(folder):
        tree.remove_tree(folder)
