"""Users, API keys, application keys, settings and system commands through the REST API."""

import requests

from support import wait_until


def test_admin_manages_users_and_changes_take_effect(running):
    created = running.post("/api/access/users", json={"name": "newbie", "password": "password1",
                                                        "groups": ["readonly"]})
    assert created.status_code == 200
    assert "newbie" in [u["name"] for u in created.json()["users"]]
    assert running.post("/api/access/users", json={"name": "newbie", "password": "password2"}).status_code == 409
    key = running.post("/api/access/users/newbie/apikey").json()["apikey"]
    headers = {"X-Api-Key": key}
    assert requests.get(running.url + "/api/files", headers=headers, timeout=10).status_code == 200
    assert requests.post(running.url + "/api/job", json={"command": "start"}, headers=headers,
                         timeout=10).status_code == 403
    promoted = running.client("admin").put(running.url + "/api/access/users/newbie", json={"groups": ["users"]},
                                           timeout=10)
    assert promoted.json()["groups"] == ["users"]
    assert requests.post(running.url + "/api/job", json={"command": "start"}, headers=headers,
                         timeout=10).status_code == 409
    running.client("admin").delete(running.url + "/api/access/users/newbie", timeout=10)
    assert requests.get(running.url + "/api/files", headers=headers, timeout=10).status_code == 403


def test_deactivating_a_user_ends_their_session(running):
    session, _ = running.login("user")
    assert session.get(running.url + "/api/files", timeout=10).status_code == 200
    running.client("admin").put(running.url + "/api/access/users/user", json={"active": False}, timeout=10)
    assert session.get(running.url + "/api/files", timeout=10).status_code == 403
    assert running.get("/api/files", role="user").status_code == 403


def test_admin_cannot_lock_themselves_out(running):
    admin = running.client("admin")
    assert admin.delete(running.url + "/api/access/users/admin", timeout=10).status_code == 409
    assert admin.put(running.url + "/api/access/users/admin", json={"admin": False}, timeout=10).status_code == 409


def test_users_change_their_own_password_with_the_current_one(running):
    user = running.client("user")
    url = running.url + "/api/access/users/user/password"
    assert user.put(url, json={"password": "new password", "current": "wrong"}, timeout=10).status_code == 403
    assert user.put(url, json={"password": "new password", "current": running.password}, timeout=10).status_code == 204
    login = requests.post(running.url + "/api/login", json={"user": "user", "pass": "new password"}, timeout=10)
    assert login.status_code == 200
    assert user.put(running.url + "/api/access/users/viewer/password", json={"password": "x"},
                    timeout=10).status_code == 403


def test_new_passwords_have_at_least_eight_characters(running):
    short = running.post("/api/access/users", json={"name": "shorty", "password": "1234567"})
    assert short.status_code == 400
    assert "at least 8 characters" in short.json()["error"]
    assert "shorty" not in [u["name"] for u in running.get("/api/access/users").json()["users"]]
    admin = running.client("admin")
    url = running.url + "/api/access/users/user/password"
    changed = admin.put(url, json={"password": "a"}, timeout=10)
    assert changed.status_code == 400 and "at least 8" in changed.json()["error"]
    # the old password still works: nothing was changed
    assert requests.post(running.url + "/api/login", json={"user": "user", "pass": running.password},
                         timeout=10).status_code == 200


def test_appkeys_workflow_grants_a_working_key(running):
    assert requests.get(running.url + "/plugin/appkeys/probe", timeout=10).status_code == 204
    request = requests.post(running.url + "/plugin/appkeys/request", json={"app": "Home Assistant", "user": "user"},
                            timeout=10)
    assert request.status_code == 201
    poll_url = request.headers["Location"]
    assert poll_url.endswith("/plugin/appkeys/request/" + request.json()["app_token"])
    assert requests.get(poll_url, timeout=10).status_code == 202
    pending = running.get("/plugin/appkeys/pending", role="user").json()["pending"]
    assert [p["app_id"] for p in pending] == ["Home Assistant"]
    assert running.get("/plugin/appkeys/pending", role="viewer").json()["pending"] == []
    token = pending[0]["user_token"]
    stolen = running.post("/plugin/appkeys/decision/" + token, role="viewer", json={"decision": True})
    assert stolen.status_code == 403  # no PLUGIN_APPKEYS_GRANT (read-only group), checked before the look-up
    assert running.post("/plugin/appkeys/decision/" + token, role="user", json={"decision": True}).status_code == 204
    granted = requests.get(poll_url, timeout=10)
    assert granted.status_code == 200
    api_key = granted.json()["api_key"]
    me = requests.get(running.url + "/api/currentuser", headers={"X-Api-Key": api_key}, timeout=10).json()
    assert me["name"] == "user"
    assert requests.get(poll_url, timeout=10).status_code == 404
    listed = running.get("/api/plugin/appkeys", role="user").json()["keys"]
    assert [k["app_id"] for k in listed] == ["Home Assistant"]
    revoke = {"command": "revoke", "key": api_key}
    assert running.post("/api/plugin/appkeys", role="user", json=revoke).status_code == 204
    assert requests.get(running.url + "/api/files", headers={"X-Api-Key": api_key}, timeout=10).status_code == 403


def test_appkeys_denied_request_answers_404(running):
    request = requests.post(running.url + "/plugin/appkeys/request", json={"app": "Sneaky"}, timeout=10)
    token = running.get("/plugin/appkeys/pending", role="user").json()["pending"][0]["user_token"]
    assert running.post("/plugin/appkeys/decision/" + token, role="user", json={"decision": False}).status_code == 204
    assert requests.get(request.headers["Location"], timeout=10).status_code == 404


def test_settings_visibility_and_all_or_nothing_updates(running):
    as_user = running.get("/api/settings", role="user").json()
    assert "serial" in as_user and "accessControl" not in as_user and set(as_user["server"]) == {"commands"}
    as_admin = running.get("/api/settings").json()
    assert "secretKey" not in as_admin["server"]
    assert running.context.settings.get("server.secretKey")
    rejected = running.post("/api/settings", json={"serial": {"baudrate": 250000}, "feature": {"sdSupport": "no"}})
    assert rejected.status_code == 400 and "sdSupport" in rejected.json()["error"]
    assert running.context.settings.get("serial.baudrate") == 115200
    refused = running.post("/api/settings", json={"server": {"commands": {"systemShutdownCommand": "rm -rf /"}}})
    assert refused.status_code == 400
    saved = running.post("/api/settings", json={"serial": {"baudrate": 250000},
                                                 "temperature": {"profiles": [{"name": "PLA", "extruder": 200,
                                                                               "bed": 55, "chamber": None}]}})
    assert saved.status_code == 200 and saved.json()["serial"]["baudrate"] == 250000
    assert running.context.settings.get("temperature.profiles")[0]["extruder"] == 200


def test_core_system_commands_appear_only_when_configured(start_server, tmp_path):
    marker = tmp_path / "restarted"
    running = start_server(settings_values={"server.commands.serverRestartCommand": f"touch {marker}"})
    commands = running.get("/api/system/commands").json()
    assert [c["action"] for c in commands["core"]] == ["restart", "restart_safe"]
    assert running.post("/api/system/commands/core/shutdown").status_code == 404
    assert running.post("/api/system/commands/core/restart").status_code == 204
    assert not running.context.settings.get("server.startOnceInSafeMode")
    assert running.post("/api/system/commands/core/restart_safe").status_code == 204
    wait_until(lambda: running.context.settings.get("server.startOnceInSafeMode") is True)
    assert running.get("/api/system/commands", role="user").status_code == 403


def test_plugin_settings_are_merged_key_by_key(running):
    running.context.settings.set("plugins._disabled", ["legacy"])
    saved = running.post("/api/settings", json={"plugins": {"demo": {"color": "red", "size": 3}}})
    assert saved.status_code == 200
    assert running.context.settings.get("plugins.demo.color") == "red"
    assert running.context.settings.get("plugins._disabled") == ["legacy"]
