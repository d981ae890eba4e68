"""Login sessions expire after inactivity; CSRF tokens are bound to the session and the secret."""

import json

from octohost.access import sessions as sessions_module
from octohost.access.sessions import SessionStore

from support.stores import while_a_write_hangs


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_sessions_expire_after_inactivity_but_activity_keeps_them():
    clock = Clock()
    store = SessionStore("secret", timeout_seconds=60, clock=clock)
    session = store.create("alice")
    clock.now += 50
    assert store.get(session.id) is session
    clock.now += 50
    assert store.get(session.id) is session
    clock.now += 61
    assert store.get(session.id) is None


def test_csrf_token_depends_on_session_and_secret():
    one, other = SessionStore("a", 60), SessionStore("b", 60)
    session = one.create("alice")
    assert session.csrf_token == one.csrf_token_for(session.id)
    assert session.csrf_token != other.csrf_token_for(session.id)
    assert one.create("alice").csrf_token != session.csrf_token


def test_remove_user_ends_all_their_sessions():
    store = SessionStore("s", 60)
    first, second, bob = store.create("alice"), store.create("alice"), store.create("bob")
    assert sorted(store.remove_user("alice")) == sorted([first.id, second.id])
    assert store.get(first.id) is None and store.get(bob.id) is bob
    assert store.get("") is None and store.get(None) is None


def test_the_least_recently_used_session_makes_room(monkeypatch):
    from octohost.access import sessions

    monkeypatch.setattr(sessions, "MAX_SESSIONS", 3)
    clock = Clock()
    store = SessionStore("s", 600, clock=clock)
    first = store.create("a")
    clock.now += 1
    second = store.create("b")
    clock.now += 1
    third = store.create("c")
    clock.now += 1
    store.get(first.id)
    fourth = store.create("d")
    assert store.get(second.id) is None
    assert all(store.get(s.id) is s for s in (first, third, fourth))


def test_sessions_survive_a_restart_but_the_file_holds_no_usable_id(tmp_path):
    path = tmp_path / "data" / "sessions.json"
    clock = Clock()
    store = SessionStore("secret", 600, clock=clock, path=str(path))
    alice, bob = store.create("alice"), store.create("bob")
    store.remove(bob.id)
    clock.now += 100
    assert store.get(alice.id) is alice
    store.save()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert alice.id not in path.read_text() and alice.csrf_token not in path.read_text()

    clock.now += 400  # restarted within the timeout, counted from alice's last request
    restarted = SessionStore("secret", 600, clock=clock, path=str(path))
    session = restarted.get(alice.id)
    assert session is not None and session.user_name == "alice" and session.id == alice.id
    assert session.csrf_token == alice.csrf_token
    assert restarted.get(bob.id) is None
    assert restarted.remove_user("alice") == [alice.id]

    clock.now += 601
    assert SessionStore("secret", 600, clock=clock, path=str(path)).get(alice.id) is None


def test_an_unreadable_session_file_means_logging_in_again(tmp_path):
    path = tmp_path / "sessions.json"
    path.write_text("{not json")
    store = SessionStore("secret", 600, path=str(path))
    assert store.get("anything") is None
    session = store.create("alice")
    assert SessionStore("secret", 600, path=str(path)).get(session.id).user_name == "alice"


def test_remembered_sessions_last_longer_and_survive_a_restart(tmp_path):
    from octohost.access.sessions import REMEMBER_SECONDS

    clock = Clock()
    path = str(tmp_path / "sessions.json")
    store = SessionStore("secret", timeout_seconds=60, clock=clock, path=path)
    short, remembered = store.create("alice"), store.create("alice", remember=True)
    assert store.lifetime(remembered) == REMEMBER_SECONDS and store.lifetime(short) == 60
    clock.now += 3600
    assert store.get(short.id) is None
    assert store.get(remembered.id) is remembered
    store.save()
    restarted = SessionStore("secret", timeout_seconds=60, clock=clock, path=path)
    clock.now += REMEMBER_SECONDS - 1
    assert restarted.get(remembered.id).remember
    clock.now += REMEMBER_SECONDS + 1
    assert restarted.get(remembered.id) is None


def test_removing_a_users_sessions_can_keep_one():
    store = SessionStore("secret", 60)
    keep, other, bob = store.create("alice"), store.create("alice"), store.create("bob")
    assert store.remove_user("alice", keep=keep.id) == [other.id]
    assert store.get(keep.id) is keep and store.get(other.id) is None and store.get(bob.id) is bob


def test_looking_a_session_up_never_waits_for_the_file_being_written(tmp_path, monkeypatch):
    """The server authenticates on its event loop: a login being saved must not hold up the others."""
    store = SessionStore("s", 60, path=str(tmp_path / "sessions.json"))
    known = store.create("alice")
    found = while_a_write_hangs(monkeypatch, sessions_module, lambda: store.create("bob"),
                                lambda: store.get(known.id))
    assert found is known
    with open(tmp_path / "sessions.json", encoding="utf-8") as f:  # and the login, once written
        assert sorted(entry["user"] for entry in json.load(f)["sessions"]) == ["alice", "bob"]
