"""Malformed input on every write endpoint: always a 4xx with a JSON error, never a 500.

The printer is connected (virtual) so printer commands get past the state check and into
validation. Every command of every endpoint is also sent with every field of the wrong type.
"""

import json

import pytest
import requests
import websocket

from support import wait_until

COMMANDS = {
    "/api/connection": ["connect", "disconnect_", "fake_ack_"],
    "/api/printer/printhead": ["jog", "home", "feedrate"],
    "/api/printer/tool": ["target", "offset", "select", "extrude", "flowrate"],
    "/api/printer/bed": ["target", "offset"],
    "/api/printer/chamber": ["target", "offset"],
    "/api/printer/sd": ["init_", "refresh_", "release_"],
    "/api/job": ["pause", "recover"],
    "/api/files/local/part.gcode": ["select", "unselect_", "slice", "copy", "move", "analyse_"],
    "/api/plugin/appkeys": ["generate", "revoke"],
}
PLAIN = ["/api/login", "/api/setup/admin", "/api/settings", "/api/printer/command", "/api/printerprofiles",
         "/api/users", "/api/access/users", "/plugin/appkeys/request", "/plugin/appkeys/decision/nope"]
OTHER_METHODS = [("PATCH", "/api/printerprofiles/_default"), ("PUT", "/api/access/users/user"),
                 ("PUT", "/api/access/users/user/password"), ("PATCH", "/api/access/users/user/settings")]
WRONG_TYPES = {"targets": "hot", "target": "hot", "offset": [], "offsets": 7, "axes": "xyz", "x": "far", "y": [1],
               "z": {}, "absolute": "yes please", "speed": "fast", "factor": None, "amount": {"a": 1}, "tool": 3,
               "commands": "G28", "command_": None, "parameters": [], "script": 5, "context": "x", "destination": 5,
               "print": "maybe", "profile": [], "basedOn": 5, "name": 1, "password": 2, "current": 3,
               "groups": "admins",
               "admin": "sure", "active": 9, "user": [], "pass": {}, "remember": "x", "decision": "perhaps", "app": 7,
               "key": 8, "action": 9, "port": 5, "baudrate": "fast", "printerProfile": 3, "save": "x",
               "autoconnect": "x", "passive": "x", "feature": "x", "webcam": {"streamUrl": 5}, "serial": [1],
               "scripts": {"gcode": 5}, "controls": [{"name": 5, "command": []}]}
RAW_BODIES = [b"not json", b"[]", b'"text"', b"null", b"{", b'{"command": 5}', b'{"command": "explode"}',
              b'{"targets": {"tool0": NaN}, "command": "target"}', b'{"command": "jog", "x": 1e999}',
              b"\xff\xfe\x00garbage"]


@pytest.fixture(scope="module")
def printer_server(shared_server):
    shared_server.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
    wait_until(shared_server.context.printer.is_operational)
    shared_server.post("/api/files/local", files={"file": ("part.gcode", b"G1 X1\n")})
    return shared_server


def check(response):
    assert response.status_code < 500, (response.request.method, response.request.url, response.text)
    if response.status_code >= 400:
        assert "error" in response.json()


def send(running, method, path, body, content_type="application/json"):
    return requests.request(method, running.url + path, data=body, timeout=30,
                            headers={"X-Api-Key": running.keys["admin"], "Content-Type": content_type})


#: a G-code command may be any text, so these are fine requests there
VALID_BY_ACCIDENT = {("/api/printer/command", b'{"command": "explode"}'),
                     ("/api/printer/command", b'{"command": "jog", "x": 1e999}')}
#: endpoints that take any object (per-user settings) or ignore fields they do not know (user update)
FREE_FORM = {"/api/access/users/user/settings", "/api/access/users/user"}
ENDPOINTS = [("POST", p) for p in list(COMMANDS) + PLAIN] + OTHER_METHODS


@pytest.mark.parametrize("method,path", ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
def test_garbage_bodies_are_client_errors(printer_server, method, path):
    for body in RAW_BODIES:
        response = send(printer_server, method, path, body)
        check(response)
        acceptable = (path, body) in VALID_BY_ACCIDENT or (path in FREE_FORM and body.startswith(b'{"'))
        if not acceptable:
            assert response.status_code >= 400, body
    check(send(printer_server, method, path, b'{"a": 1}', content_type="text/plain"))
    check(send(printer_server, method, path, json.dumps(WRONG_TYPES)))


@pytest.mark.parametrize("path", list(COMMANDS))
def test_every_command_with_wrong_field_types_is_a_client_error(printer_server, path):
    for command in COMMANDS[path]:
        body = dict(WRONG_TYPES, command=command.rstrip("_"))
        response = send(printer_server, "POST", path, json.dumps(body))
        check(response)
        if not command.endswith("_"):
            assert response.status_code >= 400, (path, command, response.text)


def test_upload_endpoint_survives_garbage(printer_server):
    for content_type in ("multipart/form-data", "multipart/form-data; boundary=", "text/plain",
                         "multipart/form-data; boundary=zz"):
        check(send(printer_server, "POST", "/api/files/local", b"--zz\r\nbroken", content_type=content_type))
    check(send(printer_server, "POST", "/api/files/sdcard", b"--zz--\r\n", "multipart/form-data; boundary=zz"))


def test_push_socket_ignores_garbage(printer_server):
    ws = websocket.create_connection(printer_server.url.replace("http", "ws") + "/sockjs/websocket", timeout=10)
    try:
        assert "connected" in json.loads(ws.recv())
        for message in ("nonsense", "[]", "5", '{"auth": 5}', '{"auth": "no-colon"}', '{"throttle": "x"}',
                        '{"subscribe": 5}', '{"subscribe": {"state": 7, "events": "x"}}'):
            ws.send(message)
        ws.send(json.dumps({"throttle": 1}))
        reply = json.loads(ws.recv())
        assert reply == {"reauthRequired": {"reason": "stale"}}
    finally:
        ws.close()


DEEP = b'{"a": ' + b"[" * 10000 + b"]" * 10000 + b"}"
ANONYMOUS_JSON_ROUTES = [("POST", "/api/login"), ("POST", "/api/setup/admin"), ("POST", "/plugin/appkeys/request")]
BIG = "1" + "0" * 400
#: one body per numeric field found by the black-box attack (a 400-digit integer raised OverflowError)
BIG_NUMBERS = [("/api/printer/tool", {"command": "target", "targets": {"tool0": BIG}}),
               ("/api/printer/tool", {"command": "offset", "offsets": {"tool0": BIG}}),
               ("/api/printer/tool", {"command": "extrude", "amount": BIG}),
               ("/api/printer/tool", {"command": "flowrate", "factor": BIG}),
               ("/api/printer/bed", {"command": "target", "target": BIG}),
               ("/api/printer/bed", {"command": "offset", "offset": BIG}),
               ("/api/printer/chamber", {"command": "target", "target": BIG}),
               ("/api/printer/printhead", {"command": "jog", "x": BIG}),
               ("/api/printer/printhead", {"command": "jog", "x": 1, "speed": BIG}),
               ("/api/printer/printhead", {"command": "feedrate", "factor": BIG}),
               ("/api/connection", {"command": "connect", "port": "VIRTUAL", "baudrate": BIG}),
               ("/api/settings", {"serial": {"timeout": {"detection": BIG}}}),
               ("/api/settings", {"serial": {"baudrate": BIG}}),
               ("/api/settings", {"temperature": {"profiles": [{"name": "x", "extruder": BIG, "bed": 1}]}}),
               ("/api/printerprofiles", {"profile": {"id": "x", "name": "x", "volume": {"width": BIG}}})]


def _raw_json(value):
    """JSON text with the BIG placeholders written as bare 400-digit integers."""
    return json.dumps(value).replace(f'"{BIG}"', BIG)


@pytest.mark.parametrize("method,path", ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
def test_deeply_nested_json_is_refused_with_400(printer_server, method, path):
    response = send(printer_server, method, path, DEEP)
    assert response.status_code == 400, response.text
    assert "nested" in response.json()["error"]


@pytest.mark.parametrize("method,path", ANONYMOUS_JSON_ROUTES)
def test_deeply_nested_json_is_refused_for_anonymous_clients(printer_server, method, path):
    response = requests.request(method, printer_server.url + path, data=DEEP, timeout=30,
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("path,body", BIG_NUMBERS, ids=[f"{p} {json.dumps(b)[:40]}" for p, b in BIG_NUMBERS])
def test_huge_numbers_are_refused_with_400_and_change_nothing(printer_server, path, body):
    before = printer_server.context.settings.effective()
    for text in (_raw_json(body), _raw_json(body).replace(BIG, "-" + BIG), _raw_json(body).replace(BIG, "1e400")):
        response = send(printer_server, "POST", path, text)
        assert response.status_code == 400, (text[:80], response.text)
        assert "out of range" in response.json()["error"]
    assert printer_server.context.settings.effective() == before


@pytest.mark.parametrize("query", ["/api/history?limit=", "/api/history?offset="])
def test_huge_query_numbers_are_refused_with_400(printer_server, query):
    response = printer_server.get(query + "9" * 400)
    assert response.status_code == 400, response.text
    assert "error" in response.json()


def test_settings_outside_their_range_are_refused(printer_server):
    before = printer_server.context.settings.effective()
    for body in ({"serial": {"timeout": {"communication": 2**53 - 1}}}, {"serial": {"timeout": {"resendOk": -1}}},
                 {"accessControl": {"sessionTimeout": 0}}):
        response = send(printer_server, "POST", "/api/settings", json.dumps(body))
        assert response.status_code == 400 and "from" in response.json()["error"], response.text
    assert printer_server.context.settings.effective() == before
