"""FileManager storage: names, confinement, atomic writes, folders, move/copy, listing, events."""

import io
import os

import pytest

from octohost.events import Events
from octohost.files import (
    AlreadyExists,
    FileInUse,
    InvalidName,
    InvalidType,
    NotEmpty,
    NotFound,
    PathEscape,
    StorageError,
    UploadFailed,
)

GCODE = b"G1 X10 Y10 E1 F1200\n"


def add(manager, path, content=GCODE, **kwargs):
    return manager.add_file(path, io.BytesIO(content), **kwargs)


def uploads(settings):
    return settings.folder("uploads")


class FailingStream:
    """Yields some data, then fails like a dropped connection."""

    def __init__(self, good_bytes):
        self.good = io.BytesIO(good_bytes)

    def read(self, size=-1):
        chunk = self.good.read(size)
        if chunk:
            return chunk
        raise ConnectionResetError("client went away")


def visible_files(folder):
    found = []
    for root, _dirs, files in os.walk(folder):
        found += [os.path.relpath(os.path.join(root, f), folder) for f in files]
    return sorted(found)


def test_add_file_sanitizes_the_name_and_keeps_the_display_name(quiet_manager, settings):
    path = quiet_manager.add_file("Parts/Dübel Halter (v2).gcode", io.BytesIO(GCODE))
    assert path == "Parts/Dubel_Halter_(v2).gcode"
    with open(os.path.join(uploads(settings), "Parts", "Dubel_Halter_(v2).gcode"), "rb") as f:
        assert f.read() == GCODE
    entry = quiet_manager.get_file(path)
    assert entry["display"] == "Dübel Halter (v2).gcode"
    assert entry["name"] == "Dubel_Halter_(v2).gcode"
    assert entry["typePath"] == ["machinecode", "gcode"]
    assert entry["type"] == "machinecode"
    assert entry["origin"] == "local"
    assert entry["size"] == len(GCODE)
    import hashlib
    assert entry["hash"] == hashlib.md5(GCODE).hexdigest()


@pytest.mark.parametrize("bad", ["../x.gcode", "a/../../x.gcode", "/etc/x.gcode", "..", "a/../../../etc"])
def test_path_escapes_are_refused(quiet_manager, bad, tmp_path):
    with pytest.raises(PathEscape):
        add(quiet_manager, bad)
    with pytest.raises(PathEscape):
        quiet_manager.path_on_disk(bad)
    with pytest.raises(PathEscape):
        quiet_manager.add_folder(bad)
    assert not quiet_manager.file_exists(bad)
    assert not os.path.exists(tmp_path / "x.gcode")


def test_symlink_escape_is_refused(quiet_manager, settings, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.gcode").write_bytes(b"secret")
    os.symlink(outside, os.path.join(uploads(settings), "link"))
    with pytest.raises(PathEscape):
        quiet_manager.path_on_disk("link/secret.gcode")
    with pytest.raises(PathEscape):
        add(quiet_manager, "link/new.gcode")
    with pytest.raises(PathEscape):
        quiet_manager.remove_file("link/secret.gcode")
    assert quiet_manager.get_file("link/secret.gcode") is None
    assert "link" not in quiet_manager.list_files()
    assert sorted(os.listdir(outside)) == ["secret.gcode"]


def test_hidden_names_are_not_addressable(quiet_manager):
    add(quiet_manager, "a.gcode")
    with pytest.raises(InvalidName):
        quiet_manager.get_metadata(".metadata.json")
    with pytest.raises(InvalidName):
        quiet_manager.path_on_disk(".thumbs/a.gcode")
    assert add(quiet_manager, ".hidden.gcode") == "hidden.gcode"


def test_unknown_file_types_are_refused(quiet_manager, settings):
    with pytest.raises(InvalidType) as error:
        add(quiet_manager, "script.sh", b"rm -rf /")
    assert "gcode" in str(error.value)
    with pytest.raises(InvalidType):
        add(quiet_manager, "noextension", b"x")
    assert visible_files(uploads(settings)) == []


@pytest.mark.parametrize("bad", ["", "日本語.gcode", "folder/   "])
def test_empty_names_are_refused(quiet_manager, bad):
    with pytest.raises(InvalidName):
        add(quiet_manager, bad)


def test_overwrite_needs_permission(quiet_manager, settings):
    add(quiet_manager, "a.gcode", b"old\n")
    with pytest.raises(AlreadyExists):
        add(quiet_manager, "a.gcode", b"new\n")
    with open(os.path.join(uploads(settings), "a.gcode"), "rb") as f:
        assert f.read() == b"old\n"
    add(quiet_manager, "a.gcode", b"new\n", allow_overwrite=True)
    with open(os.path.join(uploads(settings), "a.gcode"), "rb") as f:
        assert f.read() == b"new\n"


def test_failing_stream_leaves_no_partial_file_and_the_old_file_intact(quiet_manager, settings):
    add(quiet_manager, "a.gcode", b"old content\n")
    with pytest.raises(UploadFailed) as error:
        quiet_manager.add_file("a.gcode", FailingStream(b"G1 X1\n" * 300000), allow_overwrite=True)
    assert "client went away" in str(error.value)
    with pytest.raises(UploadFailed):
        quiet_manager.add_file("b.gcode", FailingStream(b"G1 X1\n" * 10))
    assert visible_files(uploads(settings)) == [".metadata.json", "a.gcode"]
    with open(os.path.join(uploads(settings), "a.gcode"), "rb") as f:
        assert f.read() == b"old content\n"
    assert not quiet_manager.file_exists("b.gcode")


def test_a_file_in_use_cannot_be_changed(quiet_manager):
    add(quiet_manager, "printing.gcode")
    add(quiet_manager, "folder/other.gcode")
    add(quiet_manager, "busy/printing.gcode")
    in_use = {"printing.gcode", "busy/printing.gcode"}
    quiet_manager.set_can_modify(lambda path: path not in in_use)
    with pytest.raises(FileInUse):
        quiet_manager.remove_file("printing.gcode")
    with pytest.raises(FileInUse):
        add(quiet_manager, "printing.gcode", b"other\n", allow_overwrite=True)
    with pytest.raises(FileInUse):
        quiet_manager.move_file("printing.gcode", "moved.gcode")
    with pytest.raises(FileInUse):
        quiet_manager.remove_folder("busy")
    with pytest.raises(FileInUse):
        quiet_manager.move_folder("busy", "elsewhere")
    assert quiet_manager.file_exists("printing.gcode") and quiet_manager.file_exists("busy/printing.gcode")
    quiet_manager.copy_file("printing.gcode", "copy.gcode")
    quiet_manager.remove_file("folder/other.gcode")
    quiet_manager.set_can_modify(lambda path: True)
    quiet_manager.remove_file("printing.gcode")


def test_a_raising_predicate_protects_the_file(quiet_manager):
    add(quiet_manager, "a.gcode")

    def broken(path):
        raise RuntimeError("printer gone")

    quiet_manager.set_can_modify(broken)
    with pytest.raises(FileInUse):
        quiet_manager.remove_file("a.gcode")


def test_nested_folders_and_recursive_listing(quiet_manager, settings):
    quiet_manager.add_folder("a/b/c")
    add(quiet_manager, "a/one.gcode", b"1\n")
    add(quiet_manager, "a/b/two.gcode", b"22\n")
    add(quiet_manager, "a/b/c/three.gco", b"333\n")
    add(quiet_manager, "top.stl", b"solid x\n")
    with open(os.path.join(uploads(settings), "a", "notes.txt"), "w") as f:
        f.write("not a printable type")
    listing = quiet_manager.list_files()
    assert sorted(listing) == ["a", "top.stl"]
    a = listing["a"]
    assert a["type"] == "folder" and a["typePath"] == ["folder"]
    assert [c["name"] for c in a["children"]] == ["b", "one.gcode"]
    b = a["children"][0]
    assert [c["path"] for c in b["children"]] == ["a/b/c", "a/b/two.gcode"]
    assert b["children"][0]["children"][0]["path"] == "a/b/c/three.gco"
    assert a["size"] == 2 + 3 + 4
    assert listing["top.stl"]["typePath"] == ["model", "stl"]

    # folders below the levels asked for: no children, but the size of all in them (as OctoPrint)
    flat = quiet_manager.list_files(recursive=False)
    assert flat["a"]["children"] == [] and flat["a"]["size"] == 2 + 3 + 4
    assert flat["a"]["prints"] == {"success": 0, "failure": 0}
    two_levels = quiet_manager.list_files(levels=2)
    assert two_levels["a"]["children"][0]["children"] == [] and two_levels["a"]["children"][0]["size"] == 3 + 4
    assert sorted(quiet_manager.list_files("a/b")) == ["c", "two.gcode"]
    only_models = quiet_manager.list_files(filter="model")
    assert [c for c in only_models["a"]["children"] if c["type"] != "folder"] == []
    assert "top.stl" in only_models
    assert sorted(quiet_manager.list_files(filter=lambda name, entry: entry["size"] > 2)) == ["a", "top.stl"]
    with pytest.raises(NotFound):
        quiet_manager.list_files("missing")


def test_add_folder(quiet_manager, recorded_events, event_bus):
    assert quiet_manager.add_folder("New Folder") == "New_Folder"
    assert quiet_manager.folder_exists("New_Folder")
    assert quiet_manager.add_folder("New Folder") == "New_Folder"
    with pytest.raises(AlreadyExists):
        quiet_manager.add_folder("New_Folder", ignore_existing=False)
    add(quiet_manager, "file.gcode")
    with pytest.raises(AlreadyExists):
        quiet_manager.add_folder("file.gcode")
    with pytest.raises(AlreadyExists):
        quiet_manager.add_folder("file.gcode/sub")
    with pytest.raises(AlreadyExists):
        add(quiet_manager, "file.gcode/sub/deeper.gcode")
    event_bus.flush()
    assert [e for e in recorded_events if e[0] == Events.FOLDER_ADDED] == [
        (Events.FOLDER_ADDED, {"storage": "local", "path": "New_Folder", "name": "New_Folder"})]


def test_remove_file_and_folders(quiet_manager, settings):
    add(quiet_manager, "a/b/x.gcode")
    add(quiet_manager, "a/y.gcode")
    quiet_manager.remove_file("a/y.gcode")
    assert not quiet_manager.file_exists("a/y.gcode")
    with pytest.raises(NotFound):
        quiet_manager.remove_file("a/y.gcode")
    with pytest.raises(NotFound):
        quiet_manager.remove_file("a")
    with pytest.raises(NotEmpty):
        quiet_manager.remove_folder("a", recursive=False)
    quiet_manager.remove_folder("a")
    assert not quiet_manager.folder_exists("a")
    with pytest.raises(InvalidName):
        quiet_manager.remove_folder("")
    assert visible_files(uploads(settings)) == []


def test_move_and_copy_files_with_their_metadata(quiet_manager):
    add(quiet_manager, "a.gcode", b"G1 X1\n", display="A file.gcode")
    quiet_manager.set_additional_metadata("a.gcode", "myplugin", {"rating": 5})
    quiet_manager.add_folder("target")
    assert quiet_manager.copy_file("a.gcode", "target") == "target/a.gcode"
    assert quiet_manager.copy_file("a.gcode", "b copy.gcode") == "b_copy.gcode"
    assert quiet_manager.get_file("target/a.gcode")["myplugin"] == {"rating": 5}
    assert quiet_manager.get_file("b_copy.gcode")["hash"] == quiet_manager.get_file("a.gcode")["hash"]
    assert quiet_manager.move_file("a.gcode", "target/moved.gcode") == "target/moved.gcode"
    assert not quiet_manager.file_exists("a.gcode")
    moved = quiet_manager.get_file("target/moved.gcode")
    assert moved["display"] == "A file.gcode" and moved["myplugin"] == {"rating": 5}
    with pytest.raises(AlreadyExists):
        quiet_manager.copy_file("b_copy.gcode", "target/moved.gcode")
    with pytest.raises(AlreadyExists):
        quiet_manager.move_file("b_copy.gcode", "target/a.gcode")
    with pytest.raises(InvalidType):
        quiet_manager.move_file("b_copy.gcode", "renamed.txt")
    with pytest.raises(NotFound):
        quiet_manager.copy_file("missing.gcode", "x.gcode")
    with pytest.raises(PathEscape):
        quiet_manager.move_file("b_copy.gcode", "../escaped.gcode")
    assert quiet_manager.file_exists("b_copy.gcode")


def test_move_and_copy_folders(quiet_manager):
    add(quiet_manager, "src/inner/x.gcode", b"x\n")
    quiet_manager.set_additional_metadata("src/inner/x.gcode", "note", "kept")
    assert quiet_manager.copy_folder("src", "copy") == "copy"
    assert quiet_manager.get_file("copy/inner/x.gcode")["note"] == "kept"
    assert quiet_manager.get_file("copy/inner/x.gcode")["hash"]
    quiet_manager.move_folder("src", "copy/nested")
    assert quiet_manager.get_file("copy/nested/inner/x.gcode")["note"] == "kept"
    assert not quiet_manager.folder_exists("src")
    with pytest.raises(InvalidName):
        quiet_manager.move_folder("copy", "copy/nested/inside")
    with pytest.raises(AlreadyExists):
        quiet_manager.copy_folder("copy/nested", "copy")
    with pytest.raises(NotFound):
        quiet_manager.move_folder("missing", "x")


def test_folders_go_inside_an_existing_destination_folder(quiet_manager):
    add(quiet_manager, "a/x.gcode")
    quiet_manager.add_folder("b")
    assert quiet_manager.copy_folder("a", "b") == "b/a"
    assert quiet_manager.file_exists("b/a/x.gcode")
    with pytest.raises(AlreadyExists):
        quiet_manager.move_folder("b/a", "")
    quiet_manager.remove_folder("a")
    assert quiet_manager.move_folder("b/a", "") == "a"
    assert quiet_manager.file_exists("a/x.gcode") and not quiet_manager.folder_exists("b/a")


def test_add_file_from_path_renames_instead_of_copying(quiet_manager, settings, tmp_path):
    staging = os.path.join(settings.basedir, "upload.tmp")
    with open(staging, "wb") as f:
        f.write(GCODE)
    inode = os.stat(staging).st_ino
    path = quiet_manager.add_file_from_path("big part.gcode", staging)
    assert path == "big_part.gcode"
    assert not os.path.exists(staging)
    assert os.stat(quiet_manager.path_on_disk(path)).st_ino == inode
    kept = tmp_path / "keep.gcode"
    kept.write_bytes(GCODE)
    quiet_manager.add_file_from_path("copy.gcode", str(kept), move=False)
    assert kept.exists() and quiet_manager.file_exists("copy.gcode")
    with pytest.raises(AlreadyExists):
        quiet_manager.add_file_from_path("copy.gcode", str(kept))
    with pytest.raises(NotFound):
        quiet_manager.add_file_from_path("x.gcode", str(tmp_path / "missing"))


def test_events_for_added_removed_and_moved_files(quiet_manager, event_bus, recorded_events):
    add(quiet_manager, "a.gcode")
    quiet_manager.move_file("a.gcode", "b.gcode")
    quiet_manager.remove_file("b.gcode")
    event_bus.flush()
    kind = ["machinecode", "gcode"]
    assert recorded_events == [
        (Events.FILE_ADDED, {"storage": "local", "path": "a.gcode", "name": "a.gcode", "type": kind}),
        (Events.UPDATED_FILES, {"type": "printables"}),
        (Events.FILE_REMOVED, {"storage": "local", "path": "a.gcode", "name": "a.gcode", "type": kind}),
        (Events.FILE_ADDED, {"storage": "local", "path": "b.gcode", "name": "b.gcode", "type": kind}),
        (Events.UPDATED_FILES, {"type": "printables"}),
        (Events.FILE_REMOVED, {"storage": "local", "path": "b.gcode", "name": "b.gcode", "type": kind}),
        (Events.UPDATED_FILES, {"type": "printables"}),
    ]


def test_additional_metadata(quiet_manager):
    add(quiet_manager, "a.gcode")
    assert quiet_manager.set_additional_metadata("a.gcode", "plugin", {"a": 1})
    assert not quiet_manager.set_additional_metadata("a.gcode", "plugin", {"b": 2})
    assert quiet_manager.set_additional_metadata("a.gcode", "plugin", {"b": 2}, merge=True)
    assert quiet_manager.get_metadata("a.gcode")["plugin"] == {"a": 1, "b": 2}
    assert quiet_manager.set_additional_metadata("a.gcode", "plugin", "replaced", overwrite=True)
    assert quiet_manager.get_file("a.gcode")["plugin"] == "replaced"
    quiet_manager.remove_additional_metadata("a.gcode", "plugin")
    assert "plugin" not in quiet_manager.get_metadata("a.gcode")
    with pytest.raises(InvalidName):
        quiet_manager.set_additional_metadata("a.gcode", "hash", "forged")
    with pytest.raises(NotFound):
        quiet_manager.set_additional_metadata("missing.gcode", "plugin", 1)


def test_record_print_statistics(quiet_manager, event_bus, recorded_events):
    add(quiet_manager, "a.gcode")
    quiet_manager.record_print("a.gcode", True, 100.0, timestamp=1000.0, printer_profile={"id": "_default"})
    quiet_manager.record_print("a.gcode", True, 200.0, timestamp=2000.0, printer_profile="_default")
    quiet_manager.record_print("a.gcode", False, 5.0, timestamp=3000.0)
    entry = quiet_manager.get_file("a.gcode")
    assert entry["prints"] == {"success": 2, "failure": 1,
                               "last": {"date": 3000.0, "printTime": 5.0, "success": False}}
    assert entry["statistics"] == {"averagePrintTime": {"_default": 150.0}, "lastPrintTime": {"_default": 200.0}}
    add(quiet_manager, "a.gcode", b"new content\n", allow_overwrite=True)
    assert quiet_manager.get_file("a.gcode")["prints"]["success"] == 2
    # a folder adds up the prints in it, the latest as its last (as OctoPrint's listing)
    quiet_manager.add_folder("box")
    add(quiet_manager, "box/b.gcode")
    quiet_manager.record_print("box/b.gcode", True, 50.0, timestamp=4000.0)
    add(quiet_manager, "box/never.gcode")
    assert quiet_manager.list_files(recursive=False)["box"]["prints"] == {
        "success": 1, "failure": 0, "last": {"date": 4000.0, "printTime": 50.0, "success": True}}
    quiet_manager.move_file("a.gcode", "box")
    assert quiet_manager.get_file("box")["prints"]["success"] == 3
    event_bus.flush()
    assert recorded_events.count((Events.METADATA_STATISTICS_UPDATED, {"storage": "local", "path": "a.gcode"})) == 3


def test_metadata_survives_a_new_manager(quiet_manager, settings):
    from octohost.files import FileManager

    add(quiet_manager, "a.gcode", display="Ä.gcode")
    quiet_manager.record_print("a.gcode", True, 10.0)
    other = FileManager(settings)
    try:
        entry = other.get_file("a.gcode")
        assert entry["display"] == "Ä.gcode" and entry["prints"]["success"] == 1
    finally:
        other.shutdown()


def test_corrupt_metadata_file_counts_as_empty(quiet_manager, settings):
    add(quiet_manager, "a.gcode", display="Shown.gcode")
    with open(os.path.join(uploads(settings), ".metadata.json"), "w") as f:
        f.write("{ not json")
    entry = quiet_manager.get_file("a.gcode")
    assert entry["display"] == "a.gcode" and "hash" not in entry


def test_file_type_helpers(quiet_manager):
    assert quiet_manager.file_type("x.GCODE") == ["machinecode", "gcode"]
    assert quiet_manager.file_type("x.g") == ["machinecode", "gcode"]
    assert quiet_manager.file_type("x.txt") is None
    assert quiet_manager.valid_extension("x.gc")
    assert not quiet_manager.valid_extension("x.stl")
    assert quiet_manager.valid_extension("x.stl", type="model")
    assert quiet_manager.sanitize_name("a b/c.gcode".replace("/", "")) == "a_bc.gcode"
    with pytest.raises(InvalidName):
        quiet_manager.sanitize_name("a/b")


def test_every_error_is_a_storage_error_with_a_code():
    for cls, code in [(PathEscape, "path_escape"), (NotFound, "not_found"), (AlreadyExists, "already_exists"),
                      (InvalidName, "invalid_name"), (InvalidType, "invalid_type"), (FileInUse, "file_in_use"),
                      (NotEmpty, "not_empty"), (UploadFailed, "upload_failed")]:
        assert issubclass(cls, StorageError) and cls.code == code


def test_stale_leftovers_of_interrupted_writes_are_cleaned_up(settings, quiet_manager):
    from octohost.files import FileManager

    add(quiet_manager, "sub/kept.gcode")
    root = uploads(settings)
    old_temp = os.path.join(root, "sub", ".kept.gcode.abc.upload")
    fresh_temp = os.path.join(root, ".other.gcode.def.upload")
    half_removed = os.path.join(root, ".removing.xyz")
    fresh_atomic = os.path.join(root, "sub", ".thumbs", ".thumb.png.abcdefgh.tmp")  # a killed atomic_write
    os.makedirs(os.path.dirname(fresh_atomic))
    for path in (old_temp, fresh_temp, fresh_atomic):
        with open(path, "wb") as f:
            f.write(b"partial")
    os.makedirs(os.path.join(half_removed, "folder"))
    day_ago = os.stat(old_temp).st_mtime - 86400
    os.utime(old_temp, (day_ago, day_ago))
    os.utime(half_removed, (day_ago, day_ago))
    FileManager(settings).shutdown()
    assert not os.path.exists(old_temp) and not os.path.exists(half_removed)
    assert not os.path.exists(fresh_atomic)
    assert os.path.exists(fresh_temp)
    assert quiet_manager.file_exists("sub/kept.gcode")
