"""files.limits over real HTTP: too deep or too long paths get 400 JSON errors, never 500, and a
tree deeper than Python's stack already on disk cannot brick start-up, listing or delete."""

import os
import time

import pytest

from octohost.files import tree

GCODE = b"G28\nG1 X10\n"
SECONDS = 20  # generous for a shared machine; before the fix listing took 12 s and then failed


def upload(running, name="x.gcode", path="", role="user"):
    return running.post("/api/files/local", role=role, files={"file": (name, GCODE)}, data={"path": path})


def make_folder(running, name, path="", role="user"):
    return running.post("/api/files/local", role=role, files={"foldername": (None, name), "path": (None, path)})


def command(running, path, role="user", **body):
    return running.post("/api/files/local/" + path, role=role, json=body)


def refused(response, *words):
    assert response.status_code == 400, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert all(word in error for word in words), error
    return error


def uploads(running):
    return running.context.settings.folder("uploads")


def build_chain(root, levels, name="d"):
    """``root/d/d/...`` ``levels`` deep with part.gcode at the bottom, made as a hand (or an older
    version) could, relative to open folders."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(levels):
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        os.close(os.open("part.gcode", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    finally:
        os.close(fd)


def listing_depth(entries):
    depth, deepest = 0, []
    while entries:
        depth += 1
        folders = [e for e in entries if e["type"] == "folder"]
        deepest = folders or deepest
        entries = [child for e in folders for child in e.get("children", [])]
    return depth, deepest


@pytest.fixture
def deep_folder(tmp_path):
    """An uploads folder to fill with deep trees, removed without recursion afterwards (pytest's
    clean-up of old temp folders would trip over it in every later run)."""
    folder = tmp_path / "deep-uploads"
    folder.mkdir()
    yield folder
    if folder.exists():
        tree.remove_tree(str(folder))


def timed_get(running, path, role="user"):
    started = time.monotonic()
    response = running.get(path, role=role)
    assert time.monotonic() - started < SECONDS
    return response


def test_the_deep_upload_attack_is_refused_and_the_file_list_keeps_working(start_server, deep_folder):
    running = start_server(settings_values={"folder.uploads": str(deep_folder)})
    for path in ("d/" * 500, "d/" * 1000):
        refused(upload(running, path=path), "levels", "32")
    assert not os.path.exists(os.path.join(deep_folder, "d"))
    response = timed_get(running, "/api/files/local?recursive=true")
    assert response.status_code == 200 and response.json()["files"] == []


def test_a_tree_deeper_than_the_stack_on_disk_starts_lists_and_deletes(start_server, deep_folder):
    build_chain(str(deep_folder), 1200)
    running = start_server(settings_values={"folder.uploads": str(deep_folder)})
    response = timed_get(running, "/api/files/local?recursive=true")
    assert response.status_code == 200, response.text[:300]
    depth, deepest = listing_depth(response.json()["files"])
    assert depth == 32
    assert deepest[0]["path"] == "/".join(["d"] * 32)
    assert deepest[0]["truncated"] is True and deepest[0]["children"] == []
    assert timed_get(running, "/api/files/local/" + "d/" * 600 + "?recursive=true").status_code == 200
    started = time.monotonic()
    response = running.client("admin").delete(running.url + "/api/files/local/d", timeout=60)
    assert response.status_code == 204, response.text[:300]
    assert time.monotonic() - started < SECONDS
    assert os.listdir(deep_folder) == []


def test_a_listing_never_nests_past_the_hard_ceiling_whatever_the_setting(start_server, deep_folder):
    build_chain(str(deep_folder), 1200)
    running = start_server(settings_values={"folder.uploads": str(deep_folder), "files.limits.maxDepth": 100000})
    response = timed_get(running, "/api/files/local?recursive=true")
    assert response.status_code == 200, response.text[:300]
    assert listing_depth(response.json()["files"])[0] == 128


def test_depth_limit_on_uploads_and_folders(running):
    assert upload(running, path="a/" * 31).status_code == 201
    refused(upload(running, path="a/" * 32), "33 levels")
    assert make_folder(running, "b", path="b/" * 31).status_code == 201
    refused(make_folder(running, "b", path="b/" * 32), "33 levels")


def test_name_and_path_length_limits(running):
    longest = "n" * 249 + ".gcode"  # 255 bytes: its temp file name must still fit
    assert upload(running, name=longest).status_code == 201
    refused(upload(running, name="n" * 250 + ".gcode"), "256 bytes")
    refused(make_folder(running, "f" * 300), "300 bytes")
    refused(upload(running, path=("p" * 200 + "/") * 6), "1213 bytes", "1024")
    assert not [n for n in os.listdir(uploads(running)) if n.startswith(".upload-")]


def test_copy_and_move_destinations_are_held_to_the_limits(running):
    assert upload(running, name="x.gcode").status_code == 201
    refused(command(running, "x.gcode", command="copy", destination="a/" * 40 + "x.gcode"), "41 levels")
    refused(command(running, "x.gcode", command="move", destination="m" * 300 + ".gcode"), "bytes")
    assert make_folder(running, "c", path="t/a/b").status_code == 201
    assert make_folder(running, "deep", path="deep/" * 29).status_code == 201
    into = "deep/" * 30
    refused(command(running, "t", command="move", destination=into.rstrip("/")), "levels")
    refused(command(running, "t", command="copy", destination=into + "t"), "levels")
    assert os.path.isdir(os.path.join(uploads(running), "t", "a", "b", "c"))
    assert command(running, "t", command="move", destination="deep/" * 27 + "t").status_code == 201


def test_a_too_deep_tree_can_still_be_moved_up(start_server, deep_folder):
    (deep_folder / "x").mkdir()
    build_chain(str(deep_folder / "x"), 40)
    running = start_server(settings_values={"folder.uploads": str(deep_folder)})
    response = command(running, "x/d", command="move", destination="y")
    assert response.status_code == 201, response.text[:300]
    assert os.path.isfile(os.path.join(deep_folder, "y", *["d"] * 39, "part.gcode"))


def test_limits_follow_the_settings(start_server):
    running = start_server(settings_values={"files.limits.maxDepth": 3, "files.limits.maxNameLength": 20})
    assert upload(running, path="a/b").status_code == 201
    refused(upload(running, path="a/b/c"), "4 levels", "at most 3")
    refused(upload(running, name="n" * 15 + ".gcode"), "21 bytes", "at most 20")
    os.makedirs(os.path.join(uploads(running), "a", "b", "c", "d"))
    depth, deepest = listing_depth(running.get("/api/files/local?recursive=true").json()["files"])
    assert depth == 3 and deepest[0]["path"] == "a/b/c" and deepest[0]["truncated"] is True


def test_a_path_the_file_system_refuses_is_400_not_500(start_server, tmp_path):
    long_root = tmp_path.joinpath(*["r" * 200] * 6)  # the uploads folder's own path is ~1,300 bytes
    running = start_server(settings_values={"folder.uploads": str(long_root), "files.limits.maxPathLength": 3072})
    path = "/".join(["p" * 250] * 12)  # 3,011 bytes: within the limit, past PATH_MAX on disk
    refused(upload(running, path=path), "refuses a name or path that long")
    refused(make_folder(running, "q", path=path), "refuses a name or path that long")
    assert [n for n in os.listdir(long_root) if not n.startswith(".")] == ["p" * 250]
