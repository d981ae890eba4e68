"""Differential tests: the same scripted requests to octohost and to a real OctoPrint 1.11.8.

Both servers get the same users (admin, user, viewer) and go through the same states: not
connected, connected to their virtual printers, files uploaded, printing, paused, cancelled, a
print finished. In each state the same requests go to both, with an API key of each role, no key, a
wrong key, and a session cookie with and without the CSRF header, plus malformed bodies; then the
push socket's first messages. Status codes, body kinds, JSON key sets and value types must agree
(not values: times and temperatures differ) unless octoprint_allowlist.yaml lists the difference
with a reason. The tests run in file order on one pair of servers.
"""

import io
import json
import os
import time

import pytest
import requests
import websocket
from api_shapes import Allowlist, response_differences, shape_differences
from octoprint_reference import Reference, missing_reason
from werkzeug.exceptions import MethodNotAllowed, NotFound

from support import wait_until

pytestmark = pytest.mark.e2e

PASSWORD = "secret-pw"
USERS = {"admin": ["admins"], "user": ["users"], "viewer": ["readonly"]}
WHO_ALL = ("admin", "user", "viewer", "none", "wrong", "cookie", "cookie-nocsrf")
WHO_KEYS = ("admin", "viewer", "none", "wrong")
BED_TARGET = {"command": "target", "target": 0}

#: files that extrude, so both analyses have something to report (OctoPrint reports a file without
#: extrusion as "_empty" and without an estimate)
SMALL = b"G28\nG92 E0\n" + b"".join(b"G1 X%d Y%d E%.2f F3000\n" % (i % 50, i % 40, i * 0.05)
                                     for i in range(60)) + b"M400\n; end of file\n"
#: long enough to pause and cancel on both (the dwells take real time on both virtual printers),
#: short enough for OctoPrint's slow analysis to finish
BIG = b"G28\nG92 E0\n" + b"".join(b"G1 X%d Y%d E%.2f F3000\nG4 P100\n" % (i % 50, i % 40, i * 0.05)
                                   for i in range(400))


def _reason_to_skip():
    reason = missing_reason()
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    return reason


class Target:
    """One server under comparison: its URL and a way to speak to it as each kind of client."""

    def __init__(self, name, url, keys):
        self.name = name
        self.url = url.rstrip("/")
        self.keys = keys
        self._sessions = {}

    def session(self, who):
        if who in ("cookie", "cookie-nocsrf"):
            if who not in self._sessions:
                s = requests.Session()
                # a browser has the page (and OctoPrint's CSRF cookie, which its login needs) first
                s.get(self.url + "/", timeout=30)
                csrf = [c.value for c in s.cookies if c.name.startswith("csrf_token")]
                answer = s.post(self.url + "/api/login", json={"user": "admin", "pass": PASSWORD}, timeout=30,
                                headers={"X-CSRF-Token": csrf[0]} if csrf else {})
                assert answer.status_code == 200, f"{self.name} login: {answer.status_code} {answer.text}"
                if who == "cookie":
                    csrf = [c.value for c in s.cookies if c.name.startswith("csrf_token")]
                    assert csrf, f"{self.name} set no CSRF cookie"
                    s.headers["X-CSRF-Token"] = csrf[0]
                self._sessions[who] = s
            return self._sessions[who]
        s = requests.Session()
        if who == "wrong":
            s.headers["X-Api-Key"] = "WrongKey0000000000000000000000000"
        elif who != "none":
            s.headers["X-Api-Key"] = self.keys[who]
        return s

    def request(self, method, path, who="admin", **kwargs):
        kwargs.setdefault("allow_redirects", False)
        return self.session(who).request(method, self.url + path, timeout=30, **kwargs)

    def state(self):
        return self.request("GET", "/api/connection").json()["current"]["state"]

    def job(self):
        return self.request("GET", "/api/job").json()

    def wait(self, condition, what, timeout=60):
        """Poll ``condition(self)`` until it holds (see support.wait_until)."""
        return wait_until(lambda: condition(self), timeout=timeout, interval=0.1, message=f"{self.name} {what}")

    def analysed(self, name):
        return "estimatedPrintTime" in self.request("GET", f"/api/files/local/{name}").json().get("gcodeAnalysis", {})


class Pair:
    """octohost and OctoPrint side by side, and the differences found so far."""

    def __init__(self, ours, theirs, flask_app):
        self.ours = ours
        self.theirs = theirs
        self.targets = (ours, theirs)
        self.allowlist = Allowlist()
        self.unlisted = []
        self.listed = []
        self._adapter = flask_app.url_map.bind("localhost")
        self.covered = set()
        self.rules = {(rule.rule, method) for rule in flask_app.url_map.iter_rules()
                      for method in rule.methods - {"HEAD", "OPTIONS"}}

    def _cover(self, method, path):
        try:
            rule, _ = self._adapter.match(path.split("?")[0], method=method, return_rule=True)
        except (NotFound, MethodNotAllowed):
            return
        except Exception:  # a redirect for a path that needs a slash: not a route
            return
        self.covered.add((rule.rule, method))

    def record(self, label, details):
        for detail in details:
            line = f"{label}: {detail}"
            entry = self.allowlist.allowed(line)
            (self.listed if entry else self.unlisted).append(line)

    def compare(self, method, path, who="admin", phase="", **kwargs):
        """Send one request to both; return (octohost answer, OctoPrint answer)."""
        self._cover(method, path)
        body = kwargs.pop("body", None)
        answers = []
        for target in self.targets:
            extra = dict(kwargs)
            if callable(body):
                extra.update(body())
            answers.append(target.request(method, path, who, **extra))
        self.record(f"{method} {path}{_body_label(kwargs, body)} [{who}] @{phase}", response_differences(*answers))
        return answers

    def both(self, method, path, who="admin", **kwargs):
        """The same request to both without comparing (moving them into a state)."""
        answers = [t.request(method, path, who, **kwargs) for t in self.targets]
        for target, answer in zip(self.targets, answers, strict=True):
            assert answer.status_code < 400, f"{target.name} {method} {path}: {answer.status_code} {answer.text}"
        return answers

    def check(self, phase):
        """Fail on the differences no allowlist entry names (all of them, one per line)."""
        unlisted, self.unlisted = self.unlisted, []
        assert not unlisted, f"{len(unlisted)} unlisted differences (octohost != octoprint) @{phase}:\n" + \
            "\n".join(unlisted)


@pytest.fixture(scope="module")
def pair(tmp_path_factory, octohost_server):
    reason = _reason_to_skip()
    if reason:
        pytest.skip(reason)
    keys = {name: f"{name.upper()}KEY".ljust(32, "0") for name in USERS}
    reference = Reference(tmp_path_factory.mktemp("octoprint"), {n: (g, keys[n]) for n, g in USERS.items()})
    reference.prepare(PASSWORD)
    reference.start()
    try:
        running = octohost_server
        pair = Pair(Target("octohost", running.url, running.keys),
                    Target("octoprint", reference.url, reference.keys),
                    _api_app())
        yield pair
        report = pair.allowlist
        unused = report.unused()
        print(f"\ndifferential: {len(pair.listed)} listed differences, routes compared "
              f"{len(pair.covered & pair.rules)}/{len(pair.rules)}")
        for rule in sorted(pair.rules - pair.covered):
            print(f"  not compared: {rule[1]} {rule[0]}")
        for entry in unused:
            print(f"  allowlist entry matched nothing this run: {entry['match']}")
        dump = os.environ.get("OCTOHOST_DIFFERENTIAL_DUMP")
        if dump:  # every listed difference with the entry that allowed it, to work through them
            with open(dump, "w") as out:
                for line in pair.listed:
                    out.write(f"{report.allowed(line)['match']}\t{line}\n")
    finally:
        reference.stop()


def _api_app():
    """A Flask app with the REST API's blueprints alone: the route table the server mounts, to tell
    which routes a run compared (no context, so no plugin or server state is needed)."""
    from flask import Flask

    from octohost.server.api import api_blueprints

    app = Flask("octohost.differential", static_folder=None)
    for blueprint in api_blueprints():
        app.register_blueprint(blueprint)
    return app


@pytest.fixture(scope="module")
def octohost_server(start_module_server):
    return start_module_server(settings_values={"serial.virtual.okDelay": 0.004})


GET_ROUTES = (
    "/api/version", "/api/server", "/api/currentuser", "/api/settings", "/api/connection", "/api/printer",
    "/api/printer/tool", "/api/printer/bed", "/api/printer/chamber", "/api/printer/sd",
    "/api/printer/command/custom", "/api/job", "/api/files", "/api/files/local", "/api/files?recursive=true",
    "/api/files/local/missing.gcode", "/api/printerprofiles", "/api/printerprofiles/_default",
    "/api/printerprofiles/missing", "/api/system/commands", "/api/system/commands/core",
    "/api/system/commands/custom", "/api/system/commands/bogus", "/api/access/groups",
    "/api/access/permissions", "/api/access/users", "/api/access/users/admin", "/api/access/users/nobody",
    "/api/access/users/admin/settings", "/api/plugin/appkeys", "/plugin/appkeys/probe",
    "/plugin/appkeys/request/missing", "/plugin/pluginmanager/plugins", "/api/nonexistent",
    "/api/printer?history=true&limit=2", "/api/printer?exclude=temperature,sd",
)

STATE_ROUTES = ("/api/connection", "/api/printer", "/api/job", "/api/printer/tool", "/api/printer/bed")


def _body_label(kwargs, body):
    """A short form of what a request sends, so the allowlist can name one body of a route."""
    if "json" in kwargs:
        return " " + json.dumps(kwargs["json"], separators=(",", ":"))[:80]
    if "data" in kwargs:
        data = kwargs["data"]
        return " data:" + (data if isinstance(data, str) else json.dumps(data, separators=(",", ":")))[:40]
    if body is not None:
        return " upload"
    return ""


def _json(value):
    return {"data": value, "headers": {"Content-Type": "application/json"}}


def test_before_connecting(pair):
    for path in GET_ROUTES:
        for who in WHO_KEYS:
            pair.compare("GET", path, who, "disconnected")
    pair.check("disconnected")


def test_connecting_to_a_port_that_is_not_offered(pair):
    pair.compare("POST", "/api/connection", "admin", "disconnected",
                 json={"command": "connect", "port": "/dev/not-a-port"})
    pair.compare("POST", "/api/connection", "admin", "disconnected", json={"command": "bogus"})
    pair.compare("POST", "/api/connection", "admin", "disconnected", json={})
    pair.compare("POST", "/api/connection", "admin", "disconnected", **_json("{not json"))
    pair.compare("POST", "/api/connection", "viewer", "disconnected", json={"command": "disconnect"})
    pair.compare("POST", "/api/job", "admin", "disconnected", json={"command": "start"})
    pair.check("disconnected")


def test_connected_every_route_and_client(pair):
    pair.both("POST", "/api/connection", json={"command": "connect", "port": "VIRTUAL", "baudrate": 115200})
    for target in pair.targets:
        target.wait(lambda t: t.state() == "Operational", "Operational")
        # both have reported temperatures once (OctoPrint's virtual printer answers its first poll a
        # few seconds after the connection): the shape of /api/printer is compared, not the timing
        target.wait(lambda t: {"tool0", "bed"} <= set(t.request("GET", "/api/printer").json().get("temperature", {})),
                    "first temperature report")
    for path in GET_ROUTES:
        for who in WHO_ALL:
            pair.compare("GET", path, who, "operational")
    pair.check("operational")


WRITES = (
    ("POST", "/api/printer/bed", BED_TARGET),
    ("POST", "//api/printer/bed", BED_TARGET),
    ("POST", "/api/printer/tool", {"command": "target", "targets": {"tool0": 0}}),
    ("POST", "/api/printer/tool", {"command": "offset", "offsets": {"tool0": 0}}),
    ("POST", "/api/printer/bed", {"command": "offset", "offset": 0}),
    ("POST", "/api/printer/printhead", {"command": "jog", "x": 1, "y": 1}),
    ("POST", "/api/printer/printhead", {"command": "feedrate", "factor": 100}),
    ("POST", "/api/printer/command", {"commands": ["M105"]}),
    ("POST", "/api/printer/command", {"command": "M105"}),
    ("POST", "/api/job", {"command": "pause", "action": "toggle"}),
    ("POST", "/api/login", {"passive": True}),
    ("POST", "/api/printerprofiles", {"profile": {"name": "No id"}}),
    ("POST", "/api/system/commands/core/bogus", {}),
    ("POST", "/api/settings", {}),
    ("POST", "/api/connection", {"command": "connect", "port": "/dev/not-a-port"}),
)

#: the remaining routes, with requests that change nothing on either server (unknown names, bad bodies)
HARMLESS = (
    ("GET", "/api/history", None), ("GET", "/api/history/999999", None), ("DELETE", "/api/job/recovery", None),
    ("GET", "/api/machine", None), ("POST", "/api/machine", {}),
    ("POST", "/api/printer/chamber", {"command": "target", "target": 0}),
    ("POST", "/api/printer/sd", {"command": "refresh"}),
    ("PATCH", "/api/printerprofiles/missing", {"profile": {"name": "x"}}),
    ("DELETE", "/api/printerprofiles/missing", None),
    ("POST", "/api/setup/admin", {"user": "second", "pass": "pw"}),
    ("GET", "/plugin/appkeys/pending", None), ("POST", "/plugin/appkeys/request", {}),
    ("POST", "/plugin/appkeys/decision/missing", {"decision": False}), ("POST", "/api/plugin/appkeys", {}),
    ("PUT", "/api/access/users/nobody", {"active": True}), ("PATCH", "/api/access/users/nobody", {"active": True}),
    ("DELETE", "/api/access/users/nobody", None), ("POST", "/api/access/users/nobody/apikey", None),
    ("DELETE", "/api/access/users/nobody/apikey", None),
    ("PUT", "/api/access/users/nobody/password", {"password": "x"}),
    ("PATCH", "/api/access/users/nobody/settings", {}),
    ("GET", "/api/users", None), ("POST", "/api/users", {}), ("GET", "/api/users/nobody", None),
    ("PUT", "/api/users/nobody", {"active": True}), ("PATCH", "/api/users/nobody", {"active": True}),
    ("DELETE", "/api/users/nobody", None), ("POST", "/api/users/nobody/apikey", None),
    ("DELETE", "/api/users/nobody/apikey", None), ("PUT", "/api/users/nobody/password", {"password": "x"}),
    ("GET", "/api/users/nobody/settings", None), ("PATCH", "/api/users/nobody/settings", {}),
)

MALFORMED = (
    ("POST", "/api/printer/bed", {"command": "target", "target": "hot"}),
    ("POST", "/api/printer/bed", {"command": "bogus"}),
    ("POST", "/api/printer/tool", {"command": "target", "targets": {"tool9": 0}}),
    ("POST", "/api/printer/tool", {"command": "target", "targets": "x"}),
    ("POST", "/api/printer/printhead", {"command": "jog", "x": "far"}),
    ("POST", "/api/printer/command", {}),
    ("POST", "/api/job", {"command": "bogus"}),
    ("POST", "/api/job", {}),
    ("POST", "/api/printerprofiles", {}),
    ("POST", "/api/files/local/missing.gcode", {"command": "select"}),
    ("POST", "/api/access/users", {}),
)


def test_writes_with_every_client_and_malformed_bodies(pair):
    for method, path, body in WRITES:
        for who in WHO_ALL:
            pair.compare(method, path, who, "operational", json=body)
    for method, path, body in MALFORMED:
        pair.compare(method, path, "admin", "operational", json=body)
        pair.compare(method, path, "admin", "operational", **_json("{not json"))
        pair.compare(method, path, "admin", "operational", data="x=1",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    for method, path, body in HARMLESS:
        for who in ("admin", "viewer"):
            pair.compare(method, path, who, "operational", **({} if body is None else {"json": body}))
    pair.compare("HEAD", "/", "none", "operational")
    pair.compare("GET", "/", "none", "operational")
    pair.check("operational")


def _upload(name, data, **fields):
    return lambda: {"files": {"file": (name, io.BytesIO(data), "application/octet-stream")}, "data": fields}


def test_upload_and_list(pair):
    pair.compare("POST", "/api/files/local", "admin", "files", body=_upload("small.gcode", SMALL))
    pair.compare("POST", "/api/files/local", "admin", "files", body=_upload("big.gcode", BIG))
    pair.compare("POST", "/api/files/local", "viewer", "files", body=_upload("no.gcode", SMALL))
    pair.compare("POST", "/api/files/local", "admin", "files", data={"foldername": "folder"})
    pair.compare("POST", "/api/files/local", "admin", "files", body=_upload("bad.exe", b"MZ"))
    for target in pair.targets:  # analysis runs in the background on both
        for name in ("small.gcode", "big.gcode"):
            target.wait(lambda t, name=name: t.analysed(name), f"analysis of {name}", timeout=120)
    for path in ("/api/files", "/api/files/local", "/api/files/local/small.gcode", "/api/files/local/folder",
                 "/api/files?recursive=true"):
        for who in ("admin", "viewer", "none"):
            pair.compare("GET", path, who, "files")
    pair.compare("POST", "/api/files/local/small.gcode", "admin", "files", json={"command": "select"})
    pair.compare("GET", "/api/job", "admin", "selected")
    pair.check("files")


def test_printing_paused_cancelled(pair):
    pair.both("POST", "/api/files/local/big.gcode", json={"command": "select", "print": True})
    for target in pair.targets:
        target.wait(lambda t: t.state() == "Printing" and (t.job()["progress"]["completion"] or 0) > 0, "printing")
    for path in STATE_ROUTES + ("/api/files/local/big.gcode",):
        pair.compare("GET", path, "admin", "printing")
    pair.compare("POST", "/api/job", "admin", "printing", json={"command": "start"})
    pair.compare("POST", "/api/files/local/big.gcode", "admin", "printing", json={"command": "select"})
    pair.compare("DELETE", "/api/files/local/big.gcode", "admin", "printing")
    pair.both("POST", "/api/job", json={"command": "pause", "action": "pause"})
    for target in pair.targets:
        target.wait(lambda t: t.state() == "Paused", "paused")
    for path in STATE_ROUTES:
        pair.compare("GET", path, "admin", "paused")
    pair.both("POST", "/api/job", json={"command": "cancel"})
    for target in pair.targets:
        target.wait(lambda t: t.state() == "Operational", "operational after cancel")
    for path in STATE_ROUTES:
        pair.compare("GET", path, "admin", "cancelled")
    pair.check("printing")


def test_print_done(pair):
    pair.both("POST", "/api/files/local/small.gcode", json={"command": "select", "print": True})
    for target in pair.targets:
        target.wait(lambda t: t.state() == "Printing" or t.job()["progress"]["completion"] == 100, "started")
        target.wait(lambda t: t.state() == "Operational", "done", timeout=90)
    answers = pair.compare("GET", "/api/job", "admin", "done")
    completions = [a.json()["progress"]["completion"] for a in answers]
    pair.record("GET /api/job [admin] @done", [f"$.progress.completion value {completions[0]} != {completions[1]}"]
                if completions[0] != completions[1] else [])
    pair.check("done")


def _push_messages(target, seconds=3.0):
    """The push socket's message types in order and the first message of each type."""
    session = target.request("POST", "/api/login", "admin", json={"passive": True}).json()
    ws = websocket.create_connection(target.url.replace("http", "ws") + "/sockjs/websocket", timeout=10)
    try:
        first = {}
        order = []
        deadline = time.monotonic() + seconds
        sent_auth = False
        while time.monotonic() < deadline:
            ws.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                message = json.loads(ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            for kind, payload in message.items():
                if kind not in first:
                    first[kind] = payload
                    order.append(kind)
            if not sent_auth and "connected" in message:
                ws.send(json.dumps({"auth": f"admin:{session['session']}"}))
                sent_auth = True
        return order, first
    finally:
        ws.close()


def test_push_socket_messages(pair):
    (order, first), (their_order, their_first) = (_push_messages(t) for t in pair.targets)
    details = []
    if order[:2] != their_order[:2]:
        details.append(f"first messages {order[:2]} != {their_order[:2]}")
    for kind in sorted(set(first) | set(their_first)):
        if kind not in their_first:
            details.append(f"message {kind}: only octohost")
        elif kind not in first:
            details.append(f"message {kind}: only octoprint")
        elif kind in ("connected", "history", "current"):
            details.extend(f"message {kind} {d}" for d in shape_differences(first[kind], their_first[kind]))
    pair.record("PUSH /sockjs/websocket [admin] @operational", details)
    pair.check("push")


def test_logout(pair):
    """Last: it ends the cookie sessions the other tests share."""
    for who in ("cookie-nocsrf", "cookie", "admin", "none"):
        pair.compare("POST", "/api/logout", who, "end")
    pair.check("end")
