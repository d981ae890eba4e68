"""Answers where clients depend on OctoPrint 1.11.8's exact shape (issue #15), one test per defect
found with the real clients and the differential tests (test_octoprint_differential.py)."""

import http.client

import pytest
import requests

from support import wait_until


@pytest.fixture(scope="module")
def connected(start_module_server):
    running = start_module_server(connect_virtual=True)
    wait_until(lambda: running.context.printer.is_operational())
    # the first temperature report comes a moment after the connection
    wait_until(lambda: "tool0" in running.get("/api/printer").json().get("temperature", {}))
    return running


def test_every_heater_reports_an_offset_of_zero_when_none_is_set(connected):
    printer = connected.get("/api/printer").json()
    assert printer["temperature"]["tool0"]["offset"] == 0
    assert printer["temperature"]["bed"]["offset"] == 0
    assert connected.get("/api/printer/tool").json()["tool0"]["offset"] == 0
    assert connected.get("/api/printer/bed").json()["bed"]["offset"] == 0


def test_state_error_is_an_empty_string_without_an_error(connected):
    assert connected.get("/api/printer").json()["state"]["error"] == ""


def test_a_single_profile_is_answered_bare(connected):
    profile = connected.get("/api/printerprofiles/_default").json()
    assert profile["id"] == "_default" and "profile" not in profile


def test_a_new_profile_without_an_id_or_name_is_refused(connected):
    for profile in ({"name": "No id"}, {"id": "noname"}):
        answer = connected.post("/api/printerprofiles", json={"profile": profile})
        assert answer.status_code == 400, profile
        assert "missing" in answer.json()["error"]
    assert "noname" not in connected.get("/api/printerprofiles").json()["profiles"]
    made = connected.post("/api/printerprofiles", json={"profile": {"id": "made", "name": "Made"}})
    assert made.status_code == 200 and made.json()["profile"]["id"] == "made"


def test_connecting_to_a_port_that_is_not_offered_is_refused(connected):
    answer = connected.post("/api/connection", json={"command": "connect", "port": "/dev/not-offered"})
    assert answer.status_code == 400 and "offered" in answer.json()["error"]
    assert connected.get("/api/connection").json()["current"]["state"] == "Operational"


def test_settings_carry_the_discovery_id_and_the_webcam_fields_clients_read(connected):
    settings = connected.get("/api/settings").json()
    upnp = settings["plugins"]["discovery"]["upnpUuid"]
    assert len(upnp) == 36 and connected.get("/api/settings").json()["plugins"]["discovery"]["upnpUuid"] == upnp
    assert settings["webcam"]["bitrate"] == "10000k" and settings["webcam"]["snapshotSslValidation"] is True
    assert "secretKey" not in settings.get("server", {})
    # a client that posts the webcam section back as it read it is not refused
    assert connected.post("/api/settings", json={"webcam": settings["webcam"]}).status_code == 200


def test_paths_with_a_leading_double_slash_are_the_single_slash_path(connected):
    """pyoctoprintapi joins "http://host/" and "/api/printer/bed"."""
    answer = connected.post("//api/printer/bed", json={"command": "target", "target": 0})
    assert answer.status_code == 204
    assert connected.get("//api/version").json()["api"] == "0.1"


def test_head_on_the_index_answers_as_get_does(connected):
    connection = http.client.HTTPConnection("127.0.0.1", connected.server.port, timeout=10)
    connection.request("HEAD", "/")
    response = connection.getresponse()
    assert response.status == 200 and response.read() == b""
    connection.close()


def test_a_body_that_is_not_json_is_415(connected):
    answer = connected.post("/api/job", data="command=start",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 415 and "application/json" in answer.json()["error"]
    malformed = connected.post("/api/job", data="{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400


@pytest.fixture
def no_system_ports(monkeypatch):
    from octohost.comm import ports

    monkeypatch.setattr(ports.serial.tools.list_ports, "comports", lambda: [])


def test_auto_connect_finds_the_virtual_printer_when_no_other_port_exists(start_server, no_system_ports):
    running = start_server()
    assert running.post("/api/connection", json={"command": "connect"}).status_code == 204
    current = wait_until(lambda: (c := running.get("/api/connection").json()["current"])["state"] == "Operational"
                         and c, timeout=60)
    assert current["port"] == "VIRTUAL"


def test_a_failed_auto_connect_reads_the_same_in_connection_and_job(start_server, no_system_ports, tmp_path):
    not_a_tty = tmp_path / "ttyFAKE0"
    not_a_tty.write_text("")
    running = start_server(settings_values={"serial.additionalPorts": [str(not_a_tty)],
                                            "serial.timeout.detection": 0.5})
    assert running.post("/api/connection", json={"command": "connect", "port": "AUTO"}).status_code == 204
    wait_until(lambda: running.context.printer.is_error(), timeout=60)
    connection = running.get("/api/connection").json()["current"]["state"]
    assert connection == running.get("/api/job").json()["state"]
    assert connection.startswith("Offline after error") or connection.startswith("Error")


def test_automatic_baudrate_preference_is_null(start_server):
    running = start_server(settings_values={"serial.baudrate": 0})
    assert running.get("/api/connection").json()["options"]["baudratePreference"] is None


def test_the_appkeys_list_carries_the_pending_requests_by_user_token(connected):
    made = requests.post(connected.url + "/plugin/appkeys/request", json={"app": "Exactness", "user": "admin"},
                         timeout=10)
    assert made.status_code == 201
    listed = connected.get("/api/plugin/appkeys").json()
    assert [p["app_id"] for p in listed["pending"].values()] == ["Exactness"]
    token = next(iter(listed["pending"]))
    assert listed["pending"][token]["user_token"] == token


def test_the_job_and_the_file_name_their_users(connected):
    """OctoPrint's job.user is the user who selected the file, before any print starts; a file's
    user is who uploaded it."""
    uploaded = connected.post("/api/files/local", role="user", files={"file": ("who.gcode", b"G28\nM400\n")})
    assert uploaded.status_code == 201
    selected = connected.post("/api/files/local/who.gcode", role="user", json={"command": "select"})
    assert selected.status_code == 204
    job = connected.get("/api/job").json()["job"]
    assert job["file"]["name"] == "who.gcode" and job["user"] == "user"
    # and the file who uploaded it
    assert connected.get("/api/files/local/who.gcode").json()["user"] == "user"
    listed = {e["name"]: e for e in connected.get("/api/files/local").json()["files"]}
    assert listed["who.gcode"]["user"] == "user"
