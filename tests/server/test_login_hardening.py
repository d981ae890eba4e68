"""Logins: back-off after wrong passwords, no user enumeration by timing, remember-me, and a
password change that ends the user's other sessions."""

import http.client
import json
import statistics
import time

import requests

from octohost.access import users as users_module

from support import wait_until


def login(running, user, password, source="127.0.0.1", remember=None):
    """POST /api/login from ``source`` (any 127/8 address reaches the server); (status, headers, body)."""
    body = {"user": user, "pass": password}
    if remember is not None:
        body["remember"] = remember
    connection = http.client.HTTPConnection("127.0.0.1", running.server.port, timeout=30, source_address=(source, 0))
    try:
        connection.request("POST", "/api/login", body=json.dumps(body), headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, response.headers, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_wrong_passwords_make_that_client_wait_but_not_the_real_user(running):
    statuses = [login(running, "admin", f"guess{n}")[0] for n in range(130)]
    assert statuses[:6] == [403] * 5 + [429]
    # each wait doubles (1 s, 2 s, 4 s, ...), so only a few more guesses get checked at all
    assert statuses.count(403) <= 9 and statuses.count(429) >= 120
    status, headers, body = login(running, "admin", running.password)
    assert status == 429 and int(headers["Retry-After"]) >= 1 and "error" in body
    assert login(running, "admin", running.password, source="127.0.0.2")[0] == 200
    assert login(running, "user", running.password)[0] == 200
    # bounded: the wait after the 5 failures that counted is short, then the right password works
    wait_until(lambda: login(running, "admin", running.password)[0] == 200, timeout=10)


def test_unknown_users_cost_a_password_hash_like_known_ones(running, monkeypatch):
    checked = []
    real = users_module.check_password_hash

    def counting(stored, password):
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(users_module, "check_password_hash", counting)
    assert login(running, "nobody", "guess")[0] == 403
    assert login(running, "admin", "guess")[0] == 403
    assert len(checked) == 2 and checked[0].split("$")[0] == checked[1].split("$")[0]
    monkeypatch.undo()

    def median_seconds(user):
        times = []
        for n in range(4):
            start = time.perf_counter()
            assert login(running, f"{user}{n}" if user == "ghost" else user, "guess", source="127.0.0.3")[0] == 403
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    # generous: before, an unknown user answered ~30 times faster than a known one
    assert median_seconds("ghost") > 0.3 * median_seconds("viewer")


def test_remember_me_sets_persistent_cookies(running):
    port = running.server.port
    remembered = requests.post(running.url + "/api/login", json={"user": "user", "pass": running.password,
                                                                 "remember": True}, timeout=30)
    assert remembered.status_code == 200
    cookies = {c.name: c for c in remembered.cookies}
    for name in (f"session_P{port}", f"csrf_token_P{port}"):
        assert cookies[name].expires is not None and cookies[name].expires > time.time() + 80 * 24 * 3600
    assert "Max-Age=7776000" in remembered.headers["Set-Cookie"]
    plain = requests.post(running.url + "/api/login", json={"user": "user", "pass": running.password}, timeout=30)
    assert all(c.expires is None for c in plain.cookies)
    assert "Max-Age" not in plain.headers["Set-Cookie"]


def test_a_password_change_ends_the_users_other_sessions(running):
    mine, _ = running.login("user")
    other, _ = running.login("user")
    viewer, _ = running.login("viewer")
    url = running.url + "/api/access/users/user/password"
    changed = mine.put(url, json={"password": "new-password", "current": running.password}, timeout=30)
    assert changed.status_code == 204
    assert mine.get(running.url + "/api/files", timeout=10).status_code == 200
    assert other.get(running.url + "/api/files", timeout=10).status_code == 403
    assert viewer.get(running.url + "/api/files", timeout=10).status_code == 200
    assert running.get("/api/files", role="user").status_code == 200  # API keys stay valid, as in OctoPrint
    reset = running.client("admin").put(url, json={"password": "reset-password"}, timeout=30)
    assert reset.status_code == 204
    assert mine.get(running.url + "/api/files", timeout=10).status_code == 403


def test_the_current_password_check_backs_off_too(running):
    user = running.client("user")
    url = running.url + "/api/access/users/user/password"
    statuses = [user.put(url, json={"password": "x", "current": f"guess{n}"}, timeout=30).status_code
                for n in range(7)]
    assert statuses[:5] == [403] * 5 and statuses[5:] == [429, 429]
    assert login(running, "user", running.password)[0] == 429
