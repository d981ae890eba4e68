"""Trees already on disk deeper than Python's stack (and than PATH_MAX): start-up, listing, move,
copy and delete work, in bounded time, with no RecursionError."""

import os
import sys
import time

import pytest
from deep_trees import build_chain, nesting, remove_all

from octohost.files import FileInUse

LEVELS = 1200
LONG_NAME = "n" * 50
PAST_PATH_MAX = 100  # levels of LONG_NAME: 5,100 bytes, past PATH_MAX (4,096)
SECONDS = 20  # generous for a shared machine; the recursive code never finished at all


@pytest.fixture
def settings(settings):
    settings.set("files.analysis.enabled", False)
    yield settings
    remove_all(settings.folder("uploads"))


def uploads(settings):
    return settings.folder("uploads")


def timed(operation, *args, **kwargs):
    started = time.monotonic()
    result = operation(*args, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < SECONDS, f"{operation.__name__} took {elapsed:.1f} s"
    return result


def chain_path(*names):
    return "/".join(names)


def test_the_tree_is_deeper_than_the_recursion_limit():
    assert LEVELS > sys.getrecursionlimit()


def test_start_up_cleans_leftovers_above_a_tree_deeper_than_the_stack(settings, make_manager):
    os.makedirs(uploads(settings), exist_ok=True)
    build_chain(uploads(settings), LEVELS, files=(3, LEVELS), leftovers=(3,))
    fresh = os.path.join(uploads(settings), "d", ".part.gcode.y.upload")
    with open(fresh, "wb") as f:
        f.write(b"in progress")
    manager = timed(make_manager)
    assert not os.path.exists(os.path.join(uploads(settings), "d", "d", "d", ".part.gcode.x.upload"))
    assert os.path.exists(fresh), "a temp file of an upload in progress must stay"
    assert manager.file_exists("d/d/d/part.gcode")


def test_start_up_finishes_removing_a_half_removed_deep_folder(settings, make_manager):
    doomed = os.path.join(uploads(settings), ".removing.abc")
    os.makedirs(doomed)
    build_chain(doomed, LEVELS, files=(LEVELS,))
    old = time.time() - 7200
    os.utime(doomed, (old, old))
    timed(make_manager)
    assert not os.path.exists(doomed)


def test_listing_a_deep_tree_stops_at_the_depth_limit(settings, make_manager):
    os.makedirs(uploads(settings), exist_ok=True)
    build_chain(uploads(settings), LEVELS, files=(2, LEVELS))
    manager = make_manager()
    limit = manager.limits().depth
    listing = timed(manager.list_files, "", recursive=True)
    depth, deepest = nesting(list(listing.values()))
    assert depth == limit == 32
    assert deepest[0]["path"] == chain_path(*["d"] * limit)
    assert deepest[0]["truncated"] is True and deepest[0]["children"] == []
    assert listing["d"]["children"][0]["path"] == "d/d"
    assert listing["d"]["size"] == 4, "sizes sum what is listed"
    entry = timed(manager.get_file, chain_path(*["d"] * 1000), recursive=True)
    assert nesting(entry["children"])[0] == limit, "a listing below a deep folder goes the limit further"


def test_moving_copying_and_removing_a_deep_tree(settings, make_manager):
    os.makedirs(uploads(settings), exist_ok=True)
    build_chain(uploads(settings), LEVELS, files=(LEVELS,))
    manager = make_manager()
    bottom = chain_path(*["d"] * LEVELS, "part.gcode")
    assert timed(manager.move_folder, "d", "e") == "e"
    assert manager.file_exists("e" + bottom[1:])
    timed(manager.storage.copy_folder, "e", "c")
    assert manager.file_exists("c" + bottom[1:])
    assert sorted(manager.storage.walk_files("c")) == ["c" + bottom[1:]]
    timed(manager.remove_folder, "e")
    timed(manager.remove_folder, "c")
    assert os.listdir(uploads(settings)) == []


def test_removing_a_tree_deeper_than_path_max(settings, make_manager):
    os.makedirs(uploads(settings), exist_ok=True)
    build_chain(uploads(settings), PAST_PATH_MAX, name=LONG_NAME, files=(PAST_PATH_MAX,))
    manager = make_manager()
    assert list(manager.list_files("", recursive=True)) == [LONG_NAME]
    timed(manager.remove_folder, LONG_NAME)
    assert os.listdir(uploads(settings)) == []


def test_a_symbolic_link_loop_is_listed_once(settings, make_manager):
    loop = os.path.join(uploads(settings), "loop")
    os.makedirs(loop)
    os.symlink("..", os.path.join(loop, "again"))
    os.symlink(".", os.path.join(loop, "self"))
    manager = make_manager()
    listing = timed(manager.list_files, "", recursive=True)
    children = {child["name"]: child for child in listing["loop"]["children"]}
    assert sorted(children) == ["again", "self"]
    assert all(child["truncated"] is True and child["children"] == [] for child in children.values())


def test_a_file_in_use_deep_down_protects_its_folders(settings, make_manager):
    os.makedirs(uploads(settings), exist_ok=True)
    build_chain(uploads(settings), LEVELS, files=(LEVELS,))
    manager = make_manager()
    printing = chain_path(*["d"] * LEVELS, "part.gcode")
    manager.set_can_modify(lambda path: path != printing)
    with pytest.raises(FileInUse):
        timed(manager.remove_folder, "d")
    with pytest.raises(FileInUse):
        timed(manager.move_folder, "d", "e")
    assert manager.file_exists(printing)


def test_a_linked_folder_can_be_copied_moved_and_removed(settings, make_manager):
    os.makedirs(os.path.join(uploads(settings), "real", "sub"))
    with open(os.path.join(uploads(settings), "real", "sub", "a.gcode"), "wb") as f:
        f.write(b"G28\n")
    os.symlink("real", os.path.join(uploads(settings), "link"))
    manager = make_manager()
    assert manager.copy_folder("link", "copy") == "copy"
    assert manager.file_exists("copy/sub/a.gcode") and not os.path.islink(os.path.join(uploads(settings), "copy"))
    assert manager.move_folder("link", "moved") == "moved"
    assert os.path.islink(os.path.join(uploads(settings), "moved"))
    manager.remove_folder("moved")
    assert sorted(os.listdir(uploads(settings))) == ["copy", "real"]
    assert manager.file_exists("real/sub/a.gcode")
