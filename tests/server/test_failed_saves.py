"""A save that fails (disk full) answers 507 with a JSON error and changes nothing, in memory or on disk."""

import errno
import json

import yaml

from octohost.access import users as users_module
from octohost.access.users import UserManager
from octohost.settings import Settings
from octohost.settings import store as settings_store


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_settings_save_on_a_full_disk_changes_nothing(running, monkeypatch):
    monkeypatch.setattr(settings_store, "atomic_write", disk_full)
    response = running.post("/api/settings", json={"serial": {"baudrate": 250000}, "appearance": {"name": "Full"}})
    assert response.status_code == 507
    assert "disk space" in response.json()["error"]
    assert running.get("/api/settings").json()["serial"]["baudrate"] == 115200
    assert running.context.settings.get("appearance.name") == ""
    connect = running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL", "baudrate": 250000,
                                                    "save": True, "autoconnect": True})
    assert connect.status_code == 507
    assert running.context.settings.get("serial.autoconnect") is False
    monkeypatch.undo()
    assert running.post("/api/settings", json={"serial": {"baudrate": 250000}}).status_code == 200
    assert Settings(running.context.settings.basedir).get("serial.baudrate") == 250000


def test_user_changes_on_a_full_disk_change_nothing(running, monkeypatch):
    users_file = running.context.user_manager.path
    with open(users_file, encoding="utf-8") as f:
        on_disk = f.read()
    monkeypatch.setattr(users_module, "atomic_write", disk_full)
    admin = running.client("admin")
    created = admin.post(running.url + "/api/access/users", json={"name": "ghost", "password": "password1"}, timeout=10)
    assert created.status_code == 507 and "error" in created.json()
    assert "ghost" not in [u["name"] for u in admin.get(running.url + "/api/access/users", timeout=10).json()["users"]]
    patched = admin.patch(running.url + "/api/access/users/user/settings", json={"theme": "dark"}, timeout=10)
    assert patched.status_code == 507
    assert admin.get(running.url + "/api/access/users/user/settings", timeout=10).json() == {}
    assert admin.put(running.url + "/api/access/users/user", json={"active": False}, timeout=10).status_code == 507
    assert running.get("/api/files", role="user").status_code == 200
    with open(users_file, encoding="utf-8") as f:
        assert f.read() == on_disk


def test_a_deeply_nested_user_setting_is_refused_and_later_changes_persist(running):
    admin = running.client("admin")
    deep = "[" * 330 + "]" * 330
    response = admin.patch(running.url + "/api/access/users/admin/settings", data=f'{{"x": {deep}}}',
                           headers={"Content-Type": "application/json"}, timeout=10)
    assert response.status_code == 400
    created = admin.post(running.url + "/api/access/users", json={"name": "after", "password": "password1"}, timeout=30)
    assert created.status_code == 200, created.text
    reloaded = UserManager(running.context.user_manager.path)
    assert reloaded.get_user("after") is not None
    assert reloaded.get_user("admin").settings == {}


def test_user_settings_are_bounded_in_size(running):
    admin = running.client("admin")
    url = running.url + "/api/access/users/user/settings"
    assert admin.patch(url, json={"a": "x" * 40000}, timeout=10).status_code == 204
    response = admin.patch(url, json={"b": "y" * 40000}, timeout=10)
    assert response.status_code == 400 and "error" in response.json()
    with open(running.context.user_manager.path, encoding="utf-8") as f:
        assert set(yaml.safe_load(f)["user"]["settings"]) == {"a"}
    assert json.dumps(admin.get(url, timeout=10).json()).count("y") == 0
