"""The application key workflow and key storage."""

import os

import pytest
import yaml

from octohost.access import appkeys as appkeys_module
from octohost.access.appkeys import GRANTED, PENDING, UNKNOWN, AppKeyError, AppKeyManager

from support.stores import while_a_write_hangs


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_request_approve_poll_once(tmp_path):
    manager = AppKeyManager(str(tmp_path / "appkeys.yaml"))
    request = manager.request("Slicer", "alice")
    assert manager.poll(request.app_token) == (PENDING, None)
    assert manager.decide(request.user_token, "bob", True) is False
    assert manager.decide(request.app_token, "alice", True) is False
    assert manager.decide(request.user_token, "alice", True) is True
    state, key = manager.poll(request.app_token)
    assert state == GRANTED and manager.user_for_key(key) == "alice"
    assert manager.poll(request.app_token) == (UNKNOWN, None)
    stored = yaml.safe_load(open(tmp_path / "appkeys.yaml"))
    assert stored[0]["app_id"] == "Slicer" and stored[0]["user_id"] == "alice"
    assert oct(os.stat(tmp_path / "appkeys.yaml").st_mode & 0o777) == "0o600"


def test_denied_and_expired_requests_are_unknown(tmp_path):
    clock = Clock()
    manager = AppKeyManager(str(tmp_path / "k.yaml"), request_timeout=10, clock=clock)
    denied = manager.request("A")
    manager.decide(denied.user_token, "alice", False)
    assert manager.poll(denied.app_token) == (UNKNOWN, None)
    forgotten = manager.request("B")
    clock.now += 11
    assert manager.poll(forgotten.app_token) == (UNKNOWN, None)
    assert manager.pending_for("alice") == []


def test_keys_survive_a_restart_and_revoke(tmp_path):
    path = str(tmp_path / "k.yaml")
    first = AppKeyManager(path)
    key = first.generate("alice", "App")
    replaced = first.generate("alice", "App")
    second = AppKeyManager(path)
    assert second.user_for_key(key) is None and second.user_for_key(replaced) == "alice"
    assert second.revoke(replaced, "bob") is False
    assert second.revoke(replaced, "alice") is True
    assert AppKeyManager(path).keys() == []


def test_bad_input_and_bad_file(tmp_path):
    manager = AppKeyManager(str(tmp_path / "k.yaml"))
    for app in ("", "   ", None, 5, "x" * 201):
        with pytest.raises(AppKeyError):
            manager.request(app)
    broken = tmp_path / "broken.yaml"
    broken.write_text("{not: [valid")
    with pytest.raises(AppKeyError):
        AppKeyManager(str(broken))


def test_flooding_requests_is_refused(tmp_path):
    from octohost.access.appkeys import MAX_PENDING, TooManyRequests

    manager = AppKeyManager(str(tmp_path / "k.yaml"))
    for index in range(MAX_PENDING):
        manager.request(f"app{index}")
    with pytest.raises(TooManyRequests):
        manager.request("one more")


def test_a_failed_write_changes_no_keys(tmp_path, monkeypatch):
    import errno

    from octohost.access import appkeys as appkeys_module

    manager = AppKeyManager(str(tmp_path / "appkeys.yaml"))
    kept = manager.generate("alice", "Slicer")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(appkeys_module, "atomic_write", disk_full)
    for change in (lambda: manager.generate("alice", "Other"), lambda: manager.revoke(kept),
                   lambda: manager.revoke_user("alice")):
        with pytest.raises(OSError):
            change()
        assert [k["api_key"] for k in manager.keys()] == [kept]
    assert manager.user_for_key(kept) == "alice"


def test_key_lookups_never_wait_for_a_change_being_written(tmp_path, monkeypatch):
    manager = AppKeyManager(str(tmp_path / "appkeys.yaml"))
    key = manager.generate("alice", "slicer")
    found = while_a_write_hangs(monkeypatch, appkeys_module, lambda: manager.generate("bob", "phone"),
                                 lambda: (manager.user_for_key(key), len(manager.keys())))
    assert found == ("alice", 1)
    assert len(manager.keys()) == 2
