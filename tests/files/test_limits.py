"""octohost.files.limits and the OSErrors a client's name can cause."""

import errno

import pytest

from octohost.files import AlreadyExists, InvalidName, LimitExceeded
from octohost.files.errors import from_os_error
from octohost.files.limits import MAX_DEPTH, PathLimits


def test_check_counts_levels_name_bytes_and_path_bytes():
    limits = PathLimits(depth=3, name_bytes=5, path_bytes=11)
    limits.check("aaaaa/b/c")
    with pytest.raises(LimitExceeded, match="4 levels; at most 3"):
        limits.check("a/b/c/d")
    with pytest.raises(LimitExceeded, match="6 bytes long; at most 5"):
        limits.check("aaaaaa")
    with pytest.raises(LimitExceeded, match="6 bytes long; at most 5"):
        limits.check("ééé")
    with pytest.raises(LimitExceeded, match="13 bytes long; at most 11"):
        limits.check("aaaaa/bbbbb/c")


def test_check_tree_adds_the_content_below_the_destination():
    limits = PathLimits(depth=4, name_bytes=10, path_bytes=20)
    limits.check_tree("a/b", 2, 5)
    with pytest.raises(LimitExceeded, match="5 levels"):
        limits.check_tree("a/b", 3, 5)
    with pytest.raises(LimitExceeded, match="21 bytes"):
        limits.check_tree("a/b", 1, 17)


def test_a_limit_error_is_an_invalid_name_and_never_echoes_a_huge_path():
    with pytest.raises(InvalidName) as raised:
        PathLimits().check("d/" * 5000 + "x")
    assert len(str(raised.value)) < 200


def test_settings_are_clamped_to_the_hard_ceilings(settings):
    settings.set("files.limits.maxDepth", 10**6)
    settings.set("files.limits.maxNameLength", 0)
    limits = PathLimits.from_settings(settings)
    assert limits.depth == MAX_DEPTH and limits.name_bytes == 1 and limits.path_bytes == 1024


def test_os_errors_from_a_clients_name_become_storage_errors():
    too_long = from_os_error(OSError(errno.ENAMETOOLONG, "File name too long"), "x" * 500)
    assert isinstance(too_long, InvalidName) and "that long" in str(too_long) and len(str(too_long)) < 200
    assert isinstance(from_os_error(OSError(errno.ENOTDIR, "Not a directory"), "a/b"), AlreadyExists)
    assert from_os_error(OSError(errno.EACCES, "Permission denied"), "a") is None
    assert from_os_error(OSError(errno.EIO, "I/O error"), "a") is None
