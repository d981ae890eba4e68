"""What one push client can cost everyone else: a log pattern with catastrophic backtracking, and a
client that never reads. Over real HTTP and websockets on 127.0.0.1."""

import json
import threading
import time

import pytest
import requests
from test_push_socket import (
    RawClient,
    _frame,
    _stalled_websocket,
    authed,
    session_of,
    wait_for,
)

from octohost.server import push

from support import wait_until

# The pattern from issue #13 (catastrophic in re, harmless in the regex package), and one that is
# catastrophic on terminal lines in the regex package too: its filter must be switched off at the
# CPU budget. (Before the fix, re held the GIL for hours on the second one.)
ATTACK = "(.*){1,5}z"
CATASTROPHIC = r"(?:[^x]|.)*\d{7}"
GCODE = b"G28\n" + b"G1 X10 Y10 F6000\nG1 X20 Y20\n" * 3000  # 12,000 terminal lines


class RecordingClient(RawClient):
    """Keeps every ``error`` and terminal line it reads, whoever reads them."""

    def __init__(self, running):
        super().__init__(running)
        self.errors, self.lines = [], []

    def messages(self):
        for message in super().messages():
            if "error" in message:
                self.errors.append(message["error"])
            if "current" in message:
                self.lines.extend(message["current"]["logs"])
            yield message


def _version_answers_quickly(running, limit=2.0):
    started = time.monotonic()
    response = requests.get(running.url + "/api/version", headers={"X-Api-Key": running.keys["user"]}, timeout=limit)
    assert response.status_code == 200
    return time.monotonic() - started


@pytest.mark.e2e
@pytest.mark.parametrize("pattern", [ATTACK, CATASTROPHIC], ids=["attack", "catastrophic"])
def test_a_costly_log_pattern_stalls_neither_the_server_nor_the_print(running, pattern):
    with RecordingClient(running) as client:
        authed(running, client, role="user")
        client.send({"subscribe": {"state": {"logs": pattern}}})
        assert running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"}).status_code == 204
        wait_for(client, lambda m: "current" in m and m["current"]["state"]["flags"].get("operational"))
        running.post("/api/printer/command", json={"commands": ["M117 zebra"]})
        upload = running.post("/api/files/local", files={"file": ("job.gcode", GCODE)}, data={"print": "true"})
        assert upload.json()["effectivePrint"] is True
        wait_for(client, lambda m: "current" in m and m["current"]["state"]["flags"].get("printing"))
        progress = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            _version_answers_quickly(running)
            job = running.get("/api/job", role="user").json()
            progress.append(round(job["progress"]["completion"] or 0))
            if job["state"] != "Printing":
                break
        else:
            raise AssertionError(f"the print stalled: completion went {progress[:3]}..{progress[-3:]} in 90 s")
        assert progress[-1] == 100, progress
        wait_for(client, lambda m: "current" in m and not m["current"]["state"]["flags"].get("printing"))
        if pattern == ATTACK:
            assert any("M117 zebra" in line for line in client.lines), client.lines[:3]
            assert all("z" in line for line in client.lines), [line for line in client.lines if "z" not in line][:3]
        else:
            assert client.errors and "took too long" in client.errors[0], client.errors


def test_refused_patterns_are_answered_and_leave_the_subscription_as_it_was(running):
    with RawClient(running) as client:
        authed(running, client)
        client.send({"subscribe": {"state": {"logs": "^Send:"}}})
        client.send({"subscribe": {"state": {"logs": "x" * 101}}})
        message, _ = wait_for(client, lambda m: "error" in m)
        assert message["error"].startswith("subscribe.state.logs:") and "longer than" in message["error"]
        client.send({"subscribe": {"state": {"logs": "(?:a{999}){999}"}}})
        message, _ = wait_for(client, lambda m: "error" in m)
        assert "expand" in message["error"]
        running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        running.post("/api/printer/command", json={"commands": ["M117 marker"]})
        lines = []
        wait_for(client, lambda m: "current" in m and (lines.extend(m["current"]["logs"]) or
                                                       any("M117 marker" in line for line in lines)))
        assert lines and all(line.startswith("Send:") for line in lines), lines[:5]


def test_a_new_subscription_replaces_a_pattern_still_being_compiled(running):
    client = RawClient(running)
    worker_free = threading.Event()
    try:
        authed(running, client)
        running.context.push.off_loop(worker_free.wait)  # the pattern below waits behind this
        client.send({"subscribe": {"state": {"logs": "^Send:"}}})
        client.send({"subscribe": {"state": {"logs": False}}})
        client.send({"auth": "user:not-a-session"})  # answered from the loop after the two above
        wait_for(client, lambda m: "reauthRequired" in m)
        worker_free.set()
        running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        currents = []
        wait_for(client, lambda m: "current" in m and m["current"]["state"]["flags"].get("operational") and
                 not currents.append(m) and len(currents) > 3)
        assert all(m["current"]["logs"] == [] for m in currents)
    finally:
        worker_free.set()
        client.close()


def test_patterns_are_compiled_and_matched_only_on_the_push_worker(running, monkeypatch):
    threads = []
    original_init, original_select = push.LineFilter.__init__, push.LineFilter.select

    def init(self, *args):
        threads.append(threading.current_thread().name)
        original_init(self, *args)

    def select(self, lines, budget):
        threads.append(threading.current_thread().name)
        return original_select(self, lines, budget)

    monkeypatch.setattr(push.LineFilter, "__init__", init)
    monkeypatch.setattr(push.LineFilter, "select", select)
    with RawClient(running) as client:
        authed(running, client)
        client.send({"subscribe": {"state": {"logs": "^Recv:"}}})
        running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        message, _ = wait_for(client, lambda m: "current" in m and m["current"]["logs"])
        assert all(line.startswith("Recv:") for line in message["current"]["logs"])
        with RawClient(running) as late:  # and the history of a client subscribed before it authenticates
            wait_for(late, lambda m: "connected" in m)
            late.send({"subscribe": {"state": {"logs": "^Recv:"}}})
            late.send({"auth": session_of(running, "user")})
            history, _ = wait_for(late, lambda m: "history" in m)
            assert history["history"]["logs"] and all(line.startswith("Recv:") for line in history["history"]["logs"])
        assert threads and all(name.startswith("octohost-push-filter") for name in threads), set(threads)


LIMITS = {"server.push.maxQueuedBytes": 64 * 1024, "server.push.maxQueuedSeconds": 2.0}


def test_a_client_that_never_reads_is_dropped_within_the_bounds(start_server):
    """Less than the 4 MiB write buffer limit waits for it: only the time bound can drop it."""
    running = start_server(settings_values=LIMITS)
    hub = running.context.push
    stalled = _stalled_websocket(running)
    stalled.sendall(_frame(json.dumps({"auth": session_of(running, "user")})))
    assert wait_until(lambda: sum(c.user is not None for c in hub.clients()) == 1)
    with RawClient(running) as reader:
        authed(running, reader)
        blob = "x" * 4096
        sent, started, dropped_after = 0, time.monotonic(), None
        while time.monotonic() - started < 12:
            hub.broadcast_plugin("flood", {"index": sent, "blob": blob})
            wait_for(reader, lambda m, index=sent: m.get("plugin", {}).get("data", {}).get("index") == index)
            sent += 1
            if len(hub.clients()) == 1:
                dropped_after = time.monotonic() - started
                break
            time.sleep(0.02)  # pacing the flood (about 150 KiB/s), not synchronisation
        assert dropped_after is not None, f"the stalled client was still there after {sent * 4} KiB"
        assert sent * 4 < 4096, "the flood must stay below the write buffer limit"
        for index in range(sent, sent + 20):  # the reader goes on unaffected
            hub.broadcast_plugin("flood", {"index": index, "blob": blob})
        wait_for(reader, lambda m: m.get("plugin", {}).get("data", {}).get("index") == sent + 19)
        assert _closed_by_server(stalled), "the stalled client's TCP connection must be cut"
        stalled.close()


def _closed_by_server(sock, timeout=20):
    """Read (and discard) what the server had sent until it closes; True on EOF or reset."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return False
