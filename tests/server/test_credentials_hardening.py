"""Credentials a client makes up: non-ASCII bytes in keys and tokens count as wrong, never as a 500."""

import http.client
import json

import pytest
import requests

BAD = "\u00e9t\u00e9\u00ff".encode("latin-1")  # not ASCII: hmac.compare_digest refuses such str


@pytest.mark.parametrize("path", ["/api/files", "/downloads/files/local/none.gcode"])
@pytest.mark.parametrize("headers", [{"X-Api-Key": BAD}, {"Authorization": b"Bearer " + BAD}],
                         ids=["x-api-key", "bearer"])
def test_non_ascii_api_keys_are_invalid_keys(shared_server, path, headers):
    response = requests.get(shared_server.url + path, headers=headers, timeout=10)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "Invalid API key"


def test_non_ascii_query_api_key_is_an_invalid_key(shared_server):
    response = requests.get(shared_server.url + "/api/files?apikey=%C3%A9%FF", timeout=10)
    assert response.status_code == 403, response.text


@pytest.mark.parametrize("where", ["header", "cookie"])
def test_non_ascii_csrf_tokens_fail_the_csrf_check(shared_server, where):
    session, _ = shared_server.login("user")
    port = shared_server.server.port
    session_id = session.cookies[f"session_P{port}"]
    good = session.cookies[f"csrf_token_P{port}"].encode()
    header, cookie = (BAD, good) if where == "header" else (good, BAD)
    for path in ("/api/printer/command", "/api/files/local"):
        response = requests.post(shared_server.url + path, data=b"{}", timeout=10, headers={
            "Content-Type": "application/json", "X-CSRF-Token": header,
            "Cookie": f"session_P{port}={session_id}; csrf_token_P{port}=".encode() + cookie})
        assert response.status_code == 400, (path, response.text)
        assert "CSRF" in response.json()["error"]


def test_non_ascii_upload_token_is_refused(shared_server):
    # a percent-encoded path misses the streaming handler and reaches the REST view directly
    # (http.client, because requests would normalise %6C to l)
    body = b"file.path=/etc/passwd"
    connection = http.client.HTTPConnection("127.0.0.1", shared_server.server.port, timeout=10)
    try:
        connection.request("POST", "/api/files/%6Cocal", body=body, headers={
            "X-Api-Key": shared_server.keys["admin"], "X-Octohost-Upload-Token": BAD,
            "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        assert response.status == 400
        assert "multipart" in json.loads(response.read())["error"]
    finally:
        connection.close()
