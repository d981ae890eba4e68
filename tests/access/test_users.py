"""UserManager: every change is all or nothing, so memory always equals users.yaml."""

import errno

import pytest

from octohost.access import users as users_module
from octohost.access.users import UserError, UserManager

from support.stores import while_a_write_hangs


def disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.fixture
def manager(tmp_path):
    manager = UserManager(str(tmp_path / "users.yaml"))
    manager.add_user("admin", "password1", admin=True)
    manager.add_user("bob", "password1")
    return manager


def snapshot(manager):
    return [(u.name, u.groups, u.active, u.apikey, u.settings) for u in manager.list_users()]


CHANGES = [lambda m: m.add_user("carol", "password1"), lambda m: m.remove_user("bob"),
           lambda m: m.change_password("bob", "new password"), lambda m: m.update_user("bob", groups=["admins"]),
           lambda m: m.update_user("bob", settings={"x": 1}), lambda m: m.generate_api_key("bob"),
           lambda m: m.delete_api_key("admin")]


@pytest.mark.parametrize("change", CHANGES)
def test_a_failed_write_changes_nothing(manager, monkeypatch, change):
    manager.generate_api_key("admin")
    before = snapshot(manager)
    monkeypatch.setattr(users_module, "atomic_write", disk_full)
    with pytest.raises(OSError):
        change(manager)
    assert snapshot(manager) == before
    assert manager.check_password("bob", "password1") is not None
    monkeypatch.undo()
    assert snapshot(UserManager(manager.path)) == before


def test_a_value_yaml_cannot_store_changes_nothing(manager):
    before = snapshot(manager)
    with pytest.raises(Exception):  # noqa: B017 (whatever the writer raises: the point is that nothing changes)
        manager.update_user("bob", settings={"deep": nest(2000)})
    assert snapshot(manager) == before
    manager.add_user("carol", "password1")
    assert "carol" in [u.name for u in UserManager(manager.path).list_users()]


def nest(depth):
    value = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def test_new_passwords_are_at_least_eight_characters(manager):
    with pytest.raises(UserError, match="at least 8 characters"):
        manager.add_user("dave", "1234567")
    assert manager.get_user("dave") is None
    with pytest.raises(UserError, match="at least 8 characters"):
        manager.change_password("bob", "short")
    assert manager.check_password("bob", "password1") is not None
    manager.add_user("dave", "12345678")
    assert manager.check_password("dave", "12345678") is not None


def test_readers_never_wait_for_a_change_being_written(manager, monkeypatch):
    """The server authenticates on its event loop: a key lookup must not wait for a disk write."""
    key = manager.generate_api_key("admin")
    found = while_a_write_hangs(
        monkeypatch, users_module, lambda: manager.add_user("carol", "password1"),
        lambda: (manager.find_by_apikey(key), manager.get_user("bob"), len(manager.list_users())))
    assert found[0].name == "admin" and found[1].name == "bob" and found[2] == 2  # the users before the change
    assert manager.get_user("carol") is not None  # and the change, once written
