"""The push socket over real websockets: raw and SockJS-framed clients, auth, message types during a
print, throttling, subscriptions, logout, and clients that stop reading or die mid-broadcast."""

import json
import socket
import time

import pytest
import requests
import websocket
import yaml

from octohost.server import push

from support import wait_until

GCODE = b"G28\n" + b"G1 X10 Y10 F6000\nG1 X20 Y20\n" * 300


class RawClient:
    """A native-app style client on /sockjs/websocket (plain JSON text frames)."""

    def __init__(self, running, origin="http://some.app"):
        self.ws = websocket.create_connection(running.url.replace("http", "ws") + "/sockjs/websocket", timeout=10,
                                              origin=origin, skip_utf8_validation=True)

    def send(self, message):
        self.ws.send(json.dumps(message))

    def messages(self):
        yield json.loads(self.ws.recv())

    def close(self):
        self.ws.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


class FramedClient(RawClient):
    """A browser-style client speaking SockJS framing on /sockjs/<server>/<session>/websocket."""

    def __init__(self, running):
        self.ws = websocket.create_connection(running.url.replace("http", "ws") + "/sockjs/000/abcdefgh/websocket",
                                              timeout=10, skip_utf8_validation=True)
        assert self.ws.recv() == "o"

    def send(self, message):
        self.ws.send(json.dumps([json.dumps(message)]))

    def messages(self):
        frame = self.ws.recv()
        if frame.startswith("a"):
            for item in json.loads(frame[1:]):
                yield json.loads(item)


def wait_for(client, predicate, timeout=20):
    """Read until a message satisfies ``predicate``; returns (that message, all read so far).

    Each poll reads one frame (blocking up to the socket's timeout), so no sleep between polls.
    """
    seen = []

    def read():
        for message in client.messages():
            seen.append(message)
            if predicate(message):
                return message
        return None

    message = wait_until(read, timeout=timeout, interval=0,
                         message=lambda: f"a matching message; got types {[next(iter(m)) for m in seen][-20:]}")
    return message, seen


def session_of(running, role):
    body = running.post("/api/login", role=role, json={"passive": True}).json()
    return f"{body['name']}:{body['session']}"


def authed(running, client, role="user"):
    connected, _ = wait_for(client, lambda m: "connected" in m)
    client.send({"auth": session_of(running, role)})
    history, seen = wait_for(client, lambda m: "history" in m)
    assert len(seen) == 1, "history must be the first message after auth"
    return connected["connected"], history["history"]


@pytest.mark.parametrize("client_class", [RawClient, FramedClient], ids=["raw", "sockjs"])
def test_client_authenticates_and_follows_a_print(running, client_class):
    with client_class(running) as client:
        connected, history = authed(running, client)
        for key in ("version", "display_version", "branch", "python_version", "plugin_hash", "config_hash",
                    "debug", "safe_mode", "online", "permissions"):
            assert key in connected
        # as OctoPrint 1.11.8 sends them for a release outside safe mode
        assert connected["branch"] == "" and connected["safe_mode"] is None
        for key in ("state", "job", "progress", "currentZ", "offsets", "temps", "logs", "messages", "busyFiles",
                    "serverTime"):
            assert key in history
        assert running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"}).status_code == 204
        wait_for(client, lambda m: m.get("event", {}).get("type") == "Connected")
        wait_for(client, lambda m: "current" in m and m["current"]["state"]["flags"].get("operational"))
        upload = running.post("/api/files/local", files={"file": ("job.gcode", GCODE)}, data={"print": "true"})
        assert upload.json()["effectivePrint"] is True
        started, _ = wait_for(client, lambda m: m.get("event", {}).get("type") == "PrintStarted")
        assert started["event"]["payload"]["name"] == "job.gcode"
        printing, _ = wait_for(client, lambda m: "current" in m and m["current"]["state"]["flags"].get("printing"))
        assert printing["current"]["job"]["file"]["name"] == "job.gcode"
        assert "serverTime" in printing["current"] and isinstance(printing["current"]["logs"], list)
        # the graph's markings, as OctoPrint sends them in every current message
        assert [m["type"] for m in printing["current"]["markings"]][-2:] == ["connected", "print"]
        wait_for(client, lambda m: m.get("event", {}).get("type") == "PrintDone", timeout=60)


def test_nothing_but_connected_before_auth_and_stale_session_is_refused(running):
    with RawClient(running) as client:
        wait_for(client, lambda m: "connected" in m)
        client.send({"auth": "user:not-a-session"})
        message, seen = wait_for(client, lambda m: "reauthRequired" in m)
        assert message["reauthRequired"]["reason"] == "stale"
        assert all(next(iter(m)) in ("connected", "reauthRequired") for m in seen)


def test_logout_asks_the_socket_to_log_in_again(running):
    session, body = running.login("user")
    with RawClient(running) as client:
        wait_for(client, lambda m: "connected" in m)
        client.send({"auth": f"user:{body['session']}"})
        wait_for(client, lambda m: "history" in m)
        session.post(running.url + "/api/logout", timeout=10)
        message, _ = wait_for(client, lambda m: "reauthRequired" in m)
        assert message["reauthRequired"]["reason"] == "logout"


def test_subscribe_filters_events_and_plugin_messages(running):
    with RawClient(running) as client:
        authed(running, client)
        wait_for(client, lambda m: m.get("event", {}).get("type") == "ClientAuthed")
        client.send({"subscribe": {"events": ["SettingsUpdated"], "plugins": False}})
        hub = running.context.push
        wait_until(lambda: not any(c.wants("plugins", "demo") for c in hub.clients()), message="the subscription")
        running.context.push.broadcast_plugin("demo", {"n": 1})
        running.context.event_bus.fire("FileAdded", {"name": "x"})
        running.post("/api/settings", json={"appearance": {"name": "Ender"}})
        message, seen = wait_for(client, lambda m: "event" in m)
        assert message["event"]["type"] == "SettingsUpdated"
        assert not any("plugin" in m for m in seen)


def test_plugin_messages_reach_only_authenticated_clients(running):
    with RawClient(running) as anonymous, RawClient(running) as member:
        wait_for(anonymous, lambda m: "connected" in m)
        authed(running, member)
        running.context.push.broadcast_plugin("demo", {"hello": "world"})
        message, _ = wait_for(member, lambda m: "plugin" in m)
        assert message == {"plugin": {"plugin": "demo", "data": {"hello": "world"}}}
        anonymous.ws.settimeout(1)
        with pytest.raises(websocket.WebSocketTimeoutException):
            wait_for(anonymous, lambda m: "plugin" in m, timeout=1)


def _stalled_websocket(running):
    """A websocket that completes the handshake and then never reads again."""
    host, port = running.url.split("//")[1].split(":")
    sock = socket.create_connection((host, int(port)))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(b"GET /sockjs/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert b" 101 " in response
    return sock


def _frame(text):
    data = text.encode()
    mask = b"\x01\x02\x03\x04"
    header = bytes([0x81, 0x80 | len(data)]) if len(data) < 126 else bytes([0x81, 0xFE]) + len(data).to_bytes(2, "big")
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def test_a_client_that_stops_reading_is_dropped_and_slows_no_one(running, monkeypatch):
    monkeypatch.setattr(push, "WRITE_BUFFER_LIMIT", 256 * 1024)
    hub = running.context.push
    stalled = _stalled_websocket(running)
    stalled.sendall(_frame(json.dumps({"auth": session_of(running, "user")})))
    assert wait_until(lambda: sum(c.user is not None for c in hub.clients()) == 1)
    with RawClient(running) as reader:
        authed(running, reader)
        blob = "x" * 32 * 1024
        for index in range(200):
            hub.broadcast_plugin("flood", {"index": index, "blob": blob})
            if index % 20 == 0:
                wait_for(reader, lambda m, index=index: m.get("plugin", {}).get("data", {}).get("index") == index)
        last, _ = wait_for(reader, lambda m: m.get("plugin", {}).get("data", {}).get("index") == 199)
        assert last["plugin"]["data"]["blob"] == blob
        assert wait_until(lambda: len(hub.clients()) == 1)
        stalled.close()


def test_a_client_that_dies_mid_broadcast_does_not_stop_the_others(running):
    hub = running.context.push
    clients = [RawClient(running) for _ in range(3)]
    try:
        for client in clients:
            authed(running, client)
        victim = clients[1]
        victim.ws.sock.shutdown(socket.SHUT_RDWR)
        victim.ws.sock.close()
        for index in range(30):
            hub.broadcast_plugin("tick", {"index": index})
        for client in (clients[0], clients[2]):
            wait_for(client, lambda m: m.get("plugin", {}).get("data", {}).get("index") == 29)
        assert wait_until(lambda: len(hub.clients()) == 2)
    finally:
        for client in (clients[0], clients[2]):
            client.close()


def test_current_updates_are_coalesced_and_throttled(running):
    with RawClient(running) as client:
        authed(running, client)
        client.send({"throttle": 4})
        running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        wait_for(client, lambda m: "current" in m and m["current"]["state"]["flags"].get("operational"))
        stamps = []  # what arrives in a 3 s window: a measurement, not a wait
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            for message in client.messages():
                if "current" in message:
                    stamps.append(message["current"]["serverTime"])
        assert len(stamps) <= 3


def _status_only_session(running):
    """A session of a user holding STATUS alone (the read-only group has MONITOR_TERMINAL too, as
    in OctoPrint): a guest-group user given STATUS in users.yaml, which the server re-reads."""
    manager = running.context.user_manager
    if manager.get_user("watcher") is None:
        manager.add_user("watcher", "watcher-pw", groups=["guests"])
        with open(manager.path) as f:
            records = yaml.safe_load(f)
        records["watcher"]["permissions"] = ["STATUS"]
        with open(manager.path, "w") as f:
            yaml.safe_dump(records, f)
    key = manager.get_or_create_api_key("watcher")
    body = requests.post(running.url + "/api/login", json={"passive": True}, headers={"X-Api-Key": key},
                         timeout=30).json()
    return f"watcher:{body['session']}"


def test_terminal_lines_reach_only_clients_with_monitor_terminal(running):
    with RawClient(running) as viewer, RawClient(running) as user:
        wait_for(viewer, lambda m: "connected" in m)
        viewer.send({"auth": _status_only_session(running)})
        wait_for(viewer, lambda m: "history" in m)
        authed(running, user, role="user")
        running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        wait_for(user, lambda m: "current" in m and m["current"]["logs"])
        seen_by_viewer = []
        wait_for(viewer, lambda m: "current" in m and m["current"]["state"]["flags"].get("operational") and
                 not seen_by_viewer.append(m))
        assert all(m["current"]["logs"] == [] for m in seen_by_viewer if "current" in m)


def test_the_printed_file_is_listed_as_busy(running):
    with RawClient(running) as client:
        authed(running, client)
        running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        wait_for(client, lambda m: "current" in m and m["current"]["state"]["flags"].get("operational"))
        running.post("/api/files/local", files={"file": ("busy.gcode", GCODE)}, data={"print": "true"})
        busy, _ = wait_for(client, lambda m: "current" in m and m["current"]["busyFiles"])
        assert busy["current"]["busyFiles"] == [{"origin": "local", "path": "busy.gcode"}]


def test_log_subscription_with_a_pattern_filters_terminal_lines(running):
    with RawClient(running) as client:
        authed(running, client)
        client.send({"subscribe": {"state": {"logs": "^Send:", "messages": False}}})
        running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        message, seen = wait_for(client, lambda m: "current" in m and m["current"]["logs"])
        currents = [m["current"] for m in seen if "current" in m]
        assert all(line.startswith("Send:") for c in currents for line in c["logs"])
        assert all(c["messages"] == [] for c in currents)


def test_message_subscription_with_a_pattern_filters_messages(running):
    """``subscribe.state.messages`` takes a pattern too, as OctoPrint's push socket does."""
    with RawClient(running) as client:
        authed(running, client)
        client.send({"subscribe": {"state": {"logs": False, "messages": "keep"}}})
        running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        wait_for(client, lambda m: "current" in m and m["current"]["state"]["flags"].get("operational"))
        for text in ("drop this", "keep this"):
            assert running.post("/api/printer/command", json={"command": f"M118 E1 {text}"}).status_code == 204
        message, seen = wait_for(client, lambda m: "current" in m and "echo:keep this" in m["current"]["messages"])
        messages = [line for m in seen if "current" in m for line in m["current"]["messages"]]
        assert messages and all("keep" in line for line in messages)
        assert all(m["current"]["logs"] == [] for m in seen if "current" in m)


def _settings_event(running, client, name):
    """Change a setting and read until its SettingsUpdated event: a marker in the message stream."""
    running.post("/api/settings", json={"appearance": {"name": name}})
    return wait_for(client, lambda m: m.get("event", {}).get("type") == "SettingsUpdated")[1]


def test_a_subscription_without_state_stops_current_and_history_as_on_octoprint(running):
    with RawClient(running) as client:
        authed(running, client)
        client.send({"subscribe": {"events": ["SettingsUpdated"]}})  # no state, no plugins: both off
        _settings_event(running, client, "one")  # the subscription applies from here on
        running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        wait_until(lambda: running.context.printer.is_operational())
        running.context.push.broadcast_plugin("demo", {"n": 1})
        running.post("/api/printer/command", json={"command": "M118 E1 hello"})
        seen = _settings_event(running, client, "two")
        seen += _settings_event(running, client, "three")  # a second marker: more than a tick went by
        assert [next(iter(m)) for m in seen] == ["event"] * len(seen)
        assert {m["event"]["type"] for m in seen} == {"SettingsUpdated"}


def test_state_true_means_terminal_lines_without_messages_and_a_change_brings_a_new_history(running):
    with RawClient(running) as client:
        authed(running, client, role="admin")
        running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        wait_until(lambda: running.context.printer.is_operational())
        client.send({"subscribe": {"state": True, "events": True}})
        wait_for(client, lambda m: "history" in m)  # the changed state subscription gets its history
        running.post("/api/printer/command", json={"command": "M118 E1 not for this client"})
        _, seen = wait_for(client, lambda m: "Recv: echo:not for this client" in m.get("current", {}).get("logs", []))
        seen += _settings_event(running, client, "after")
        assert all(m["current"]["messages"] == [] for m in seen if "current" in m)


def test_a_subscription_with_a_value_of_the_wrong_type_is_ignored_whole(running):
    with RawClient(running) as client:
        authed(running, client)
        client.send({"subscribe": {"state": 5, "events": []}})  # OctoPrint ignores all of it
        seen = _settings_event(running, client, "still subscribed")
        assert seen[-1]["event"]["type"] == "SettingsUpdated"


def _terminal_lines(client, until, initial=()):
    """Terminal lines from ``current`` messages, in order, until a line containing ``until``."""
    lines = list(initial)

    def read():
        for message in client.messages():
            if "current" in message:
                lines.extend(message["current"]["logs"])
                if any(until in line for line in message["current"]["logs"]):
                    return True
        return False

    wait_until(read, timeout=20, interval=0, message=lambda: f"{until!r}; last lines {lines[-5:]}")
    return lines


def test_every_client_gets_each_terminal_line_once_in_order(running):
    early, other = RawClient(running), RawClient(running)
    late = None
    try:
        authed(running, early)
        authed(running, other)
        running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
        wait_for(early, lambda m: "current" in m and m["current"]["state"]["flags"].get("operational"))
        running.post("/api/printer/command", json={"commands": [f"M117 before-{i}" for i in range(3)]})
        late = RawClient(running)
        _, history = authed(running, late)
        running.post("/api/printer/command", json={"commands": [f"M117 after-{i}" for i in range(3)]})
        for name, client, initial in (("early", early, ()), ("other", other, ()), ("late", late, history["logs"])):
            lines = _terminal_lines(client, "M117 after-2", initial)
            sent = [line.split("M117 ", 1)[1] for line in lines if line.startswith("Send:") and "M117 " in line]
            markers = [m.split("*")[0] for m in sent]
            assert markers == [f"before-{i}" for i in range(3)] + [f"after-{i}" for i in range(3)], f"{name}: {markers}"
    finally:
        for client in (early, other, late):
            if client is not None:
                client.close()


def test_a_deeply_nested_message_is_ignored_and_the_client_stays(running, caplog):
    """Found by the fuzzer: 10,000 levels raised RecursionError in the raw socket's handler, logged a
    traceback and dropped the client; now it is ignored like any invalid JSON."""
    with RawClient(running) as client:
        authed(running, client)
        client.ws.send('{"subscribe": ' + "[" * 10000 + "]" * 10000 + "}")
        client.send({"subscribe": {"events": ["SettingsUpdated"]}})  # the same connection still listens
        running.post("/api/settings", json={"appearance": {"name": "Deep"}})
        wait_for(client, lambda m: m.get("event", {}).get("type") == "SettingsUpdated")
        assert not [r for r in caplog.records if r.exc_info]
