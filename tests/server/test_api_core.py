"""Version, login/logout, sessions, CSRF, API key transports and the first-run lock, over real HTTP."""

import requests


def test_version_identifies_as_octoprint_with_our_version_and_capabilities(running):
    body = running.get("/api/version", role="viewer").json()
    assert body["text"].startswith("OctoPrint ")
    assert "octohost" in body["text"]
    assert body["api"] == "0.1"
    assert body["capabilities"]["appkeys"] is True
    assert running.get("/api/server", role="viewer").json()["safemode"] is None


def test_version_and_server_refuse_a_missing_or_wrong_key_once_an_account_exists(running):
    """Slicers and Home Assistant test a key with GET /api/version: OctoPrint 1.11.8 answers 403."""
    for path in ("/api/version", "/api/server"):
        assert running.get(path, role=None).status_code == 403
        wrong = requests.get(running.url + path, headers={"X-Api-Key": "not-a-key"}, timeout=10)
        assert wrong.status_code == 403 and "error" in wrong.json()


def test_api_key_is_accepted_in_header_query_and_bearer(running):
    key = running.keys["user"]
    url = running.url + "/api/currentuser"
    assert requests.get(url, headers={"X-Api-Key": key}, timeout=10).json()["name"] == "user"
    assert requests.get(url, params={"apikey": key}, timeout=10).json()["name"] == "user"
    assert requests.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=10).json()["name"] == "user"


def test_unknown_api_key_is_refused_not_anonymous(running):
    response = requests.get(running.url + "/api/files", headers={"X-Api-Key": "nope"}, timeout=10)
    assert response.status_code == 403
    assert response.json() == {"error": "Invalid API key"}


def test_anonymous_gets_403_with_json_error(running):
    """403 as in OctoPrint, which never answers 401 (pyoctoprintapi takes only 403 for bad credentials)."""
    response = running.get("/api/files", role=None)
    assert response.status_code == 403
    assert response.json() == {"error": "Authentication required"}


def test_login_answers_session_and_sets_cookies(running):
    session, body = running.login("user")
    assert body["name"] == "user"
    assert body["session"]
    assert "FILES_UPLOAD" in body["permissions"] and "ADMIN" not in body["permissions"]
    assert session.get(running.url + "/api/currentuser", timeout=10).json()["name"] == "user"


def test_a_login_survives_a_restart_of_the_daemon(running):
    from octohost.server.app import Server

    session, body = running.login("user")
    running.server.stop()
    restarted = Server(running.server.settings, host="127.0.0.1", port=running.server.port)
    restarted.start_in_thread()
    try:
        me = session.get(running.url + "/api/currentuser", timeout=10)
        assert me.json()["name"] == "user"
        assert session.post(running.url + "/api/logout", timeout=10).status_code in (200, 204)
        assert session.get(running.url + "/api/currentuser", timeout=10).json()["name"] is None
    finally:
        restarted.stop()


def test_wrong_password_is_403_and_sets_no_cookie(running):
    response = requests.post(running.url + "/api/login", json={"user": "user", "pass": "wrong"}, timeout=10)
    assert response.status_code == 403
    assert not response.cookies


def test_passive_login_with_api_key_opens_a_session_for_the_push_socket(running):
    response = running.post("/api/login", role="viewer", json={"passive": True})
    assert response.status_code == 200
    assert response.json()["name"] == "viewer" and response.json()["session"]


def test_passive_login_without_credentials_is_204(running):
    assert running.post("/api/login", role=None, json={"passive": True}).status_code == 204


def test_cookie_writes_need_the_csrf_token(running):
    session, _ = running.login("admin")
    token = session.headers.pop("X-CSRF-Token")
    refused = session.post(running.url + "/api/settings", json={"feature": {"sdSupport": False}}, timeout=10)
    assert refused.status_code == 400 and "CSRF" in refused.json()["error"]
    assert running.context.settings.get("feature.sdSupport") is True
    accepted = session.post(running.url + "/api/settings", json={"feature": {"sdSupport": False}}, timeout=10,
                            headers={"X-CSRF-Token": token})
    assert accepted.status_code == 200
    assert running.context.settings.get("feature.sdSupport") is False


def test_api_key_writes_need_no_csrf_token(running):
    response = running.post("/api/settings", json={"webcam": {"streamUrl": "http://cam/stream"}})
    assert response.status_code == 200
    assert response.json()["webcam"]["streamUrl"] == "http://cam/stream"
    assert running.context.settings.get("webcam.stream") == "http://cam/stream"


def test_logout_ends_the_session(running):
    session, _ = running.login("user")
    assert session.post(running.url + "/api/logout", timeout=10).status_code == 200
    assert session.get(running.url + "/api/files", timeout=10).status_code == 403


def test_first_run_allows_only_setup_until_an_admin_exists(start_server):
    running = start_server(users=False)
    assert running.get("/api/version", role=None).status_code == 200
    assert running.get("/api/files", role=None).status_code == 403
    assert running.post("/api/login", role=None, json={"passive": True}).status_code == 204
    assert running.get("/downloads/files/local/x.gcode", role=None).status_code == 403
    bad = requests.post(running.url + "/api/setup/admin", json={"user": "a b", "pass": "password1"}, timeout=10)
    assert bad.status_code == 400
    short = requests.post(running.url + "/api/setup/admin", json={"user": "boss", "pass": "a"}, timeout=10)
    assert short.status_code == 400 and "at least 8 characters" in short.json()["error"]
    assert running.context.user_manager.get_user("boss") is None
    created = requests.post(running.url + "/api/setup/admin", json={"user": "boss", "pass": "password1"}, timeout=10)
    assert created.status_code == 201
    assert created.json()["admin"] is True and created.cookies
    again = requests.post(running.url + "/api/setup/admin", json={"user": "other", "pass": "password1"}, timeout=10)
    assert again.status_code == 409
    assert running.context.user_manager.get_user("other") is None


def test_unknown_routes_answer_json_404(running):
    assert running.get("/api/nothing").status_code == 404
    assert running.get("/nothing/at/all").json() == {"error": "Not found"}


def test_the_web_ui_is_mounted(running):
    page = requests.get(running.url + "/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]


def test_cors_headers_only_when_enabled(start_server):
    origin = {"Origin": "http://elsewhere.example"}
    closed = start_server()
    assert "Access-Control-Allow-Origin" not in closed.get("/api/version", headers=origin).headers
    opened = start_server(settings_values={"api.allowCrossOrigin": True})
    answer = opened.get("/api/version", headers=origin)
    assert answer.headers["Access-Control-Allow-Origin"] == "http://elsewhere.example"
    preflight = requests.options(opened.url + "/api/files", headers=dict(origin, **{
        "Access-Control-Request-Method": "POST"}), timeout=10)
    assert preflight.status_code == 204
    assert "X-Api-Key" in preflight.headers["Access-Control-Allow-Headers"]


def test_autologin_turns_a_local_passive_login_into_a_session(start_server):
    running = start_server(settings_values={"accessControl.autologinLocal": True, "accessControl.autologinAs": "user"})
    session = requests.Session()
    body = session.post(running.url + "/api/login", json={"passive": True}, timeout=10).json()
    assert body["name"] == "user" and body["_login_mechanism"] == "autologin"
    assert session.get(running.url + "/api/files", timeout=10).status_code == 200
    assert requests.get(running.url + "/api/files", timeout=10).status_code == 403


def test_autologin_ignores_requests_from_outside_the_local_networks(start_server):
    running = start_server(settings_values={"accessControl.autologinLocal": True, "accessControl.autologinAs": "user",
                                            "accessControl.localNetworks": ["10.0.0.0/8"]})
    assert requests.post(running.url + "/api/login", json={"passive": True}, timeout=10).status_code == 204


def test_declared_oversized_body_is_answered_413_before_it_is_sent(running):
    import http.client
    import json as jsonlib

    host, port = running.url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/api/settings")
    connection.putheader("X-Api-Key", running.keys["admin"])
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(50 * 1024 * 1024))
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 413
    assert "larger than" in jsonlib.loads(response.read())["error"]
    connection.close()
    assert running.get("/api/version").status_code == 200
