"""Backups and restores of a real base folder, with plugins' backup hooks."""

import os
import types
import zipfile

import pytest
import yaml

from octohost.access.users import UserManager
from octohost.maintenance.backup import BackupError, BackupManager
from octohost.plugin import PluginManager
from octohost.settings import Settings


def make_base(root):
    settings = Settings(str(root))
    settings.set("serial.baudrate", 250000)
    UserManager(os.path.join(settings.basedir, "users.yaml")).add_user("admin", "secret-pw", admin=True)
    profiles = settings.folder("printerProfiles")
    with open(os.path.join(profiles, "mk3.profile"), "w") as f:
        f.write("id: mk3\nname: MK3\n")
    uploads = settings.folder("uploads")
    os.makedirs(os.path.join(uploads, "parts", "small"))
    with open(os.path.join(uploads, "parts", "small", "cube.gcode"), "w") as f:
        f.write("G28\nG1 X10\n")
    data = settings.folder("data")
    with open(os.path.join(data, "history.jsonl"), "w") as f:
        f.write('{"event": "done"}\n')
    os.makedirs(os.path.join(data, "noisy", "cache"))
    with open(os.path.join(data, "noisy", "cache", "big.bin"), "wb") as f:
        f.write(b"x" * 1000)
    with open(os.path.join(data, "noisy", "keep.yaml"), "w") as f:
        f.write("a: 1\n")
    logs = settings.folder("logs")
    with open(os.path.join(logs, "octohost.log"), "w") as f:
        f.write("log line\n")
    return settings


def hook_plugin(calls, excludes=("cache",)):
    def additional_excludes(current, *args, **kwargs):
        calls.append(("additional_excludes", list(current)))
        return list(excludes)

    def hook(name):
        def handler(*args, **kwargs):
            calls.append((name, kwargs))
        return handler

    module = types.ModuleType("noisy")
    module.__plugin_name__ = "Noisy"
    module.__plugin_hooks__ = {
        "octoprint.plugin.backup.additional_excludes": additional_excludes,
        "octoprint.plugin.backup.before_backup": hook("before_backup"),
        "octoprint.plugin.backup.after_backup": hook("after_backup"),
        "octoprint.plugin.backup.before_restore": hook("before_restore"),
        "octoprint.plugin.backup.after_restore": hook("after_restore"),
    }
    return module


def manager_with(settings, calls):
    plugins = PluginManager(settings)
    plugins.register_module("noisy", hook_plugin(calls))
    return BackupManager(settings, plugins, lambda: settings.config_version)


def names(path):
    with zipfile.ZipFile(path) as z:
        return set(z.namelist())


def test_backup_holds_the_base_folder_and_calls_the_hooks_in_order(tmp_path):
    settings = make_base(tmp_path / "base")
    calls = []
    path = manager_with(settings, calls).create()
    members = names(path)
    assert {"metadata.json", "basedir/config.yaml", "basedir/users.yaml", "basedir/printerProfiles/mk3.profile",
            "basedir/uploads/parts/small/cube.gcode", "basedir/data/history.jsonl",
            "basedir/data/noisy/keep.yaml"} <= members
    # the plugin's excluded cache, the logs, lock files and the backups themselves stay out
    assert not [m for m in members if "cache" in m or m.startswith("basedir/logs") or m.endswith(".lock")
                or "/backup/" in m]
    assert [c[0] for c in calls] == ["additional_excludes", "before_backup", "after_backup"]
    assert calls[-1][1] == {"error": False}


def test_excluded_uploads_and_history_stay_out(tmp_path):
    settings = make_base(tmp_path / "base")
    calls = []
    path = manager_with(settings, calls).create(["uploads", "history"])
    members = names(path)
    assert not [m for m in members if m.startswith("basedir/uploads") or m.endswith("history.jsonl")]
    assert calls[0] == ("additional_excludes", ["history", "uploads"])  # the plugin sees what is left out


def test_timelapses_are_kept_unless_excluded(tmp_path):
    settings = make_base(tmp_path / "base")
    with open(os.path.join(settings.folder("timelapse"), "part.mp4"), "wb") as f:
        f.write(b"video")
    os.makedirs(settings.folder("timelapseTmp"), exist_ok=True)
    with open(os.path.join(settings.folder("timelapseTmp"), "part-0.jpg"), "wb") as f:
        f.write(b"frame")
    members = names(BackupManager(settings).create())
    assert {"basedir/timelapse/part.mp4", "basedir/timelapse/tmp/part-0.jpg"} <= members
    members = names(BackupManager(settings).create(["timelapse"], name="octohost-backup-without.zip"))
    assert not [m for m in members if m.startswith("basedir/timelapse")]


def test_unknown_exclude_is_refused(tmp_path):
    settings = make_base(tmp_path / "base")
    with pytest.raises(BackupError, match="cannot exclude 'logs'"):
        BackupManager(settings).create(["logs"])


def test_restore_brings_back_everything_and_keeps_later_backups(tmp_path):
    settings = make_base(tmp_path / "base")
    calls = []
    backups = manager_with(settings, calls)
    first = backups.create()
    # the base folder changes after the backup ...
    settings.set("serial.baudrate", 115200)
    UserManager(os.path.join(settings.basedir, "users.yaml")).remove_user("admin")
    os.unlink(os.path.join(settings.folder("uploads"), "parts", "small", "cube.gcode"))
    with open(os.path.join(settings.folder("uploads"), "new.gcode"), "w") as f:
        f.write("G1\n")
    second = backups.create(name="octohost-backup-second.zip")
    calls.clear()

    backups.restore(first)

    assert Settings(settings.basedir).get("serial.baudrate") == 250000
    assert UserManager(os.path.join(settings.basedir, "users.yaml")).get_user("admin").is_admin
    uploads = settings.folder("uploads")
    assert os.path.exists(os.path.join(uploads, "parts", "small", "cube.gcode"))
    assert not os.path.exists(os.path.join(uploads, "new.gcode"))
    # both backups are still there (they live in data/, which the restore replaced)
    assert os.path.exists(first) and os.path.exists(second)
    assert [c[0] for c in calls] == ["before_restore", "after_restore"] and calls[-1][1] == {"error": False}
    # nothing of the restore's scaffolding is left behind
    assert not [n for n in os.listdir(settings.basedir) if n.startswith((".restore-", ".before-restore-"))]


def _archive(path, entries, metadata='{"format": 1, "version": "x"}'):
    with zipfile.ZipFile(path, "w") as z:
        if metadata is not None:
            z.writestr("metadata.json", metadata)
        for name, data in entries.items():
            z.writestr(name, data)
    return str(path)


@pytest.mark.parametrize("entries, metadata, message", [
    ({"basedir/../evil.txt": "x"}, '{"format": 1}', "outside the base folder"),
    ({"/etc/passwd": "x"}, '{"format": 1}', "outside the base folder"),
    ({"basedir/logs/x.log": "x"}, '{"format": 1}', "outside the base folder"),
    ({"basedir/config.yaml": "serial: {baudrate: fast}\n"}, '{"format": 1}', "settings do not load"),
    ({}, None, "metadata.json is missing"),
    ({}, '{"format": 7}', "unsupported backup format 7"),
    ({}, '{"format": 1, "configVersion": 99}', "newer octohost"),
])
def test_bad_archives_are_refused_and_change_nothing(tmp_path, entries, metadata, message):
    settings = make_base(tmp_path / "base")
    before = open(settings.config_path).read()
    archive = _archive(tmp_path / "bad.zip", entries, metadata)
    with pytest.raises(BackupError, match=message):
        BackupManager(settings, None, lambda: settings.config_version).restore(archive)
    assert open(settings.config_path).read() == before
    assert not os.path.exists(tmp_path / "evil.txt")


def test_a_zip_bomb_is_refused_before_unpacking(tmp_path):
    settings = make_base(tmp_path / "base")
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", '{"format": 1}')
        z.writestr("basedir/uploads/zeros.gcode", b"\0" * (64 * 1024 * 1024))
    with pytest.raises(BackupError, match="unpacks to"):
        BackupManager(settings).restore(str(path))
    assert not os.path.exists(os.path.join(settings.folder("uploads"), "zeros.gcode"))


def test_a_failed_restore_puts_everything_back(tmp_path, monkeypatch):
    settings = make_base(tmp_path / "base")
    calls = []
    backups = manager_with(settings, calls)
    archive = backups.create()
    settings.set("serial.baudrate", 57600)
    calls.clear()
    import shutil

    real_move = shutil.move
    uploads = settings.folder("uploads")
    staging = os.path.join(settings.basedir, ".restore-")

    def failing_move(source, target):
        if target == uploads and str(source).startswith(staging):
            raise OSError(28, "No space left on device")
        return real_move(source, target)

    monkeypatch.setattr(shutil, "move", failing_move)
    with pytest.raises(OSError):
        backups.restore(archive)
    monkeypatch.undo()
    assert yaml.safe_load(open(settings.config_path))["serial"]["baudrate"] == 57600
    assert os.path.exists(os.path.join(settings.folder("uploads"), "parts", "small", "cube.gcode"))
    assert calls[-1] == ("after_restore", {"error": True})


def test_delete_and_names_are_confined(tmp_path):
    settings = make_base(tmp_path / "base")
    backups = BackupManager(settings)
    path = backups.create()
    assert [b["name"] for b in backups.list()] == [os.path.basename(path)]
    for bad in ("../config.yaml", "..", ".hidden.zip", "x/../../y.zip", "config.yaml"):
        with pytest.raises(BackupError) as exc:
            backups.delete(bad)
        assert exc.value.status == 404
    backups.delete(os.path.basename(path))
    assert backups.list() == []
