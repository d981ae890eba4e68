"""Files written by two processes (the daemon and the CLI): one writer at a time, no lost update."""

import os
import subprocess
import sys
import textwrap

import pytest
import yaml

from octohost.access.users import UserError, UserManager
from octohost.settings import Settings, SettingsError
from octohost.util.shared_file import SharedFile


def test_changed_notices_a_replacement_even_with_the_same_size_and_time(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text("a: 1\n")
    shared = SharedFile(path)
    shared.remember(shared.stamp())
    assert not shared.changed()
    stat = os.stat(path)
    replacement = tmp_path / "new"
    replacement.write_text("b: 2\n")
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, path)  # what atomic_write does: a new inode
    assert shared.changed()


def test_two_user_managers_see_each_others_changes(tmp_path):
    path = str(tmp_path / "users.yaml")
    daemon, cli = UserManager(path), UserManager(path)
    daemon.add_user("web", "password1", admin=True)
    cli.add_user("admin", "password1", admin=True)  # starts from the file, which has "web" now
    key = cli.get_or_create_api_key("admin")
    assert daemon.find_by_apikey(key).name == "admin"
    daemon.generate_api_key("web")
    assert {u.name for u in cli.list_users()} == {"web", "admin"}
    assert cli.get_user("admin").apikey == key and daemon.get_user("admin").apikey == key


def test_a_broken_users_file_is_not_overwritten(tmp_path):
    path = tmp_path / "users.yaml"
    daemon = UserManager(str(path))
    daemon.add_user("admin", "password1", admin=True)
    key = daemon.get_or_create_api_key("admin")
    path.write_text("admin: [broken\n")
    assert daemon.find_by_apikey(key).name == "admin"  # the last good users stay in force
    with pytest.raises(UserError, match="cannot parse"):
        daemon.add_user("other", "password1")
    assert path.read_text() == "admin: [broken\n"


def test_two_settings_keep_each_others_values(tmp_path):
    daemon, cli = Settings(str(tmp_path)), Settings(str(tmp_path))
    cli.set("serial.baudrate", 250000)
    daemon.set("appearance.name", "Bench")
    cli.remove("appearance.name")
    daemon.set("serial.port", "/dev/ttyACM0")
    stored = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert stored == {"_config_version": 1, "serial": {"baudrate": 250000, "port": "/dev/ttyACM0"}}


def test_a_broken_config_file_is_not_overwritten(tmp_path):
    daemon = Settings(str(tmp_path))
    daemon.set("serial.baudrate", 250000)
    (tmp_path / "config.yaml").write_text("serial: [broken\n")
    with pytest.raises(SettingsError, match="YAML syntax error"):
        daemon.set("serial.port", "/dev/ttyACM0")
    assert (tmp_path / "config.yaml").read_text() == "serial: [broken\n"


WRITER = textwrap.dedent("""
    import sys
    from octohost.access.users import UserManager
    manager = UserManager(sys.argv[1])
    for n in range(int(sys.argv[3])):
        manager.update_user(sys.argv[2], settings={"n": n})
""")


def test_processes_writing_at_once_lose_no_update(tmp_path):
    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({name: {"groups": ["users"], "password": "x"} for name in ("a", "b", "c")}))
    rounds = 40
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(rounds)]) for name in "abc"]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    stored = yaml.safe_load(path.read_text())
    assert {name: stored[name].get("settings") for name in "abc"} == {name: {"n": rounds - 1} for name in "abc"}
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_values_another_process_set_are_announced_when_adopted(tmp_path):
    daemon, cli = Settings(str(tmp_path)), Settings(str(tmp_path))
    heard = []
    daemon.subscribe("serial", lambda key, value: heard.append((key, value)))
    cli.set("serial.baudrate", 250000)
    daemon.set("appearance.name", "Bench")  # the daemon's next write adopts the file first
    assert heard == [("serial.baudrate", 250000)]
    assert daemon.get("serial.baudrate") == 250000
