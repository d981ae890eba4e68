"""Print history and print recovery over HTTP, with the virtual printer and a real server restart."""

import shutil
import time

import pytest
import requests

from octohost.server.app import Server
from octohost.settings import Settings

from support import wait_until

SHORT = b"G28\n" + b"G1 X10 Y10 F6000\n" * 20 + b"M84\n"
LONG = b"G28\n" + b"G1 X10 Y10 F6000\nG1 X20 Y20\n" * 2000 + b"M84\n"


def print_file(running, name, content):
    running.post("/api/files/local", files={"file": (name, content)}, data={"print": "true"})


def test_history_lists_finished_prints_newest_first_with_paging_and_stats(start_server):
    running = start_server(connect_virtual=True)
    assert running.get("/api/version").json()["capabilities"]["printHistory"] == "/api/history"
    wait_until(running.context.printer.is_operational)
    for done, name in enumerate(("first.gcode", "second.gcode"), start=1):
        before = time.time()
        print_file(running, name, SHORT)
        wait_until(lambda done=done: running.get("/api/history").json()["stats"]["done"] == done)
        took = time.time() - before
        wait_until(lambda: running.get("/api/job").json()["state"] == "Operational")
    body = running.get("/api/history", role="viewer").json()
    assert [job["name"] for job in body["jobs"]] == ["second.gcode", "first.gcode"]
    newest = body["jobs"][0]
    assert newest["result"] == "done" and newest["user"] == "admin" and body["stats"]["count"] == 2
    assert 0 < newest["duration"] <= took  # the print's own time, within what the test saw it take
    assert newest["duration"] == pytest.approx(newest["ended"] - newest["started"])
    page = running.get("/api/history?limit=1&offset=1").json()
    assert [job["name"] for job in page["jobs"]] == ["first.gcode"]
    one = running.get(f"/api/history/{page['jobs'][0]['id']}").json()
    assert one["path"] == "first.gcode" and one["origin"] == "local"
    assert running.get("/api/history/999").status_code == 404
    for query in ("limit=0", "limit=abc", "offset=-1", "limit=100000"):
        response = running.get(f"/api/history?{query}")
        assert response.status_code == 400 and "error" in response.json(), query


def _start_on(basedir, users_template):
    settings = Settings(str(basedir))
    settings.set("serial.virtual.okDelay", 0.005)
    shutil.copy(users_template[0], basedir / "users.yaml")
    return Server(settings, host="127.0.0.1", port=0, connect_virtual=True).start_in_thread()


@pytest.fixture
def restartable(tmp_path, users_template):
    servers = []

    def start():
        servers.append(_start_on(tmp_path, users_template))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_print_stopped_by_a_restart_is_offered_for_recovery_then_resumed_or_dismissed(restartable, users_template):
    key = {"X-Api-Key": users_template[1]["user"]}
    server = restartable()
    url = server.url.rstrip("/")
    wait_until(server.context.printer.is_operational)
    requests.post(url + "/api/files/local", files={"file": ("long.gcode", LONG)}, data={"print": "true"},
                  headers=key, timeout=30)
    wait_until(lambda: (requests.get(url + "/api/job", headers=key, timeout=10).json()["progress"]["filepos"] or 0)
               > 2000)
    assert "recovery" not in requests.get(url + "/api/job", headers=key, timeout=10).json()
    server.stop()

    server = restartable()
    url = server.url.rstrip("/")
    wait_until(server.context.printer.is_operational)
    recovery = requests.get(url + "/api/job", headers=key, timeout=10).json()["recovery"]
    assert recovery["file"] == {"name": "long.gcode", "path": "long.gcode", "origin": "local", "size": len(LONG)}
    assert 0 < recovery["pos"] < len(LONG) and 0 < recovery["completion"] < 100
    assert recovery["reason"]
    history = requests.get(url + "/api/history", headers=key, timeout=10).json()["jobs"]
    assert history[0]["name"] == "long.gcode" and history[0]["result"] == "failed"

    assert requests.post(url + "/api/job", json={"command": "recover"}, headers=key, timeout=10).status_code == 204
    wait_until(server.context.printer.is_printing)
    job = requests.get(url + "/api/job", headers=key, timeout=10).json()
    assert "recovery" not in job and job["progress"]["filepos"] >= recovery["pos"]
    assert requests.post(url + "/api/job", json={"command": "cancel"}, headers=key, timeout=10).status_code == 204
    wait_until(lambda: requests.get(url + "/api/job", headers=key, timeout=10).json()["state"] == "Operational")
    server.context.printer.flush()
    assert "recovery" not in requests.get(url + "/api/job", headers=key, timeout=10).json()
    assert requests.delete(url + "/api/job/recovery", headers=key, timeout=10).status_code == 404
    assert requests.post(url + "/api/job", json={"command": "recover"}, headers=key, timeout=10).status_code == 409


def test_dismissing_recovery_removes_it(start_server):
    running = start_server()
    running.post("/api/files/local", files={"file": ("kept.gcode", SHORT)})
    running.context.printer.recovery.record("kept.gcode", "local", 40, reason="power cut")
    recovery = running.get("/api/job", role="viewer").json()["recovery"]
    assert recovery["reason"] == "power cut" and recovery["pos"] == 40
    assert running.get("/api/version").json()["capabilities"]["printRecovery"] == "/api/job/recovery"
    with running.client("user") as session:
        assert session.delete(running.url + "/api/job/recovery", timeout=10).status_code == 204
    assert "recovery" not in running.get("/api/job").json()
    running.context.printer.recovery.record("gone.gcode", "local", 40)
    assert "recovery" not in running.get("/api/job").json()
