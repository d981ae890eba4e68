"""The server's plugin hooks, with a plugin registered in-process, over real HTTP and websockets."""

import json
import os
import types

import flask
import requests
import tornado.web
import websocket

from octohost.access.users import User, UserManager


class HelloHandler(tornado.web.RequestHandler):
    def get(self):
        self.write("hello")

    def post(self):
        self.write(f"got {len(self.request.body)}")


def make_plugin(record, marker):
    def before_request():
        def block():
            if flask.request.headers.get("X-Block"):
                return flask.jsonify({"error": "blocked by plugin"}), 418
            return None

        return [block]

    def after_request():
        def tag(response):
            response.headers["X-Demo"] = "yes"
            return response

        return [tag]

    def access_validator(request, *args, **kwargs):
        if request.path.endswith("/secret.gcode"):
            raise tornado.web.HTTPError(403, "secret")

    def keyvalidator(apikey, *args, **kwargs):
        return User("robot", groups=["users"]) if apikey == "magic" else None

    class Implementation:
        def on_startup(self, host, port):
            record.append(("startup", port))

        def on_after_startup(self):
            record.append(("after_startup",))

        def on_shutdown(self):
            record.append(("shutdown",))

        def on_event(self, event, payload):
            record.append(("event", event))

    module = types.ModuleType("demo_plugin")
    module.__plugin_implementation__ = Implementation()
    module.__plugin_hooks__ = {
        "octoprint.access.permissions": lambda *a, **k: [{"key": "run", "name": "Run it", "default_groups": ["users"]},
                                                         {"key": "bad key!", "name": "x"}],
        "octoprint.accesscontrol.keyvalidator": keyvalidator,
        "octoprint.server.http.routes": lambda routes, *a, **k: record.append(("routes", routes)) or [
            (r"/hello", HelloHandler, {})],
        "octoprint.server.http.bodysize": lambda sizes, *a, **k: record.append(("sizes", sizes)) or [
            ("POST", r"/hello", 10)],
        "octoprint.server.http.access_validator": access_validator,
        "octoprint.server.api.before_request": before_request,
        "octoprint.server.api.after_request": after_request,
        "octoprint.server.sockjs.register": lambda socket, user, *a, **k: not record_flag(record, "refuse"),
        "octoprint.server.sockjs.authed": lambda socket, user, *a, **k: record.append(("authed", user and user.name)),
        "octoprint.server.sockjs.emit": lambda socket, user, message, payload, *a, **k:
            not (message == "plugin" and payload["plugin"] == "hidden"),
        "octoprint.system.additional_commands": lambda *a, **k: [
            {"name": "Touch", "action": "touch", "command": f"touch {marker}"},
            {"name": "Broken", "action": "Not Valid!", "command": "true"}],
    }
    return module


def record_flag(record, flag):
    return (flag,) in record


def test_http_hooks(start_server, tmp_path):
    record = []
    running = start_server(plugins={"demo": make_plugin(record, tmp_path / "ran")})
    url = running.url
    assert requests.get(url + "/plugin/demo/hello", timeout=10).text == "hello"
    assert requests.post(url + "/plugin/demo/hello", data=b"12345", timeout=10).text == "got 5"
    assert requests.post(url + "/plugin/demo/hello", data=b"x" * 100, timeout=10).status_code == 413
    # the hooks got the current lists, as OctoPrint hands them over
    routes = next(value for name, value in record if name == "routes")
    assert r"/downloads/files/local/(.*)" in [path for path, handler, kwargs in routes]
    sizes = next(value for name, value in record if name == "sizes")
    assert ("POST", r"/api/files/(local|sdcard)") in [(method, path) for method, path, size in sizes]

    running.post("/api/files/local", files={"file": ("secret.gcode", b"G1\n")})
    running.post("/api/files/local", files={"file": ("open.gcode", b"G1\n")})
    assert running.get("/downloads/files/local/secret.gcode").status_code == 403
    assert running.get("/downloads/files/local/open.gcode").status_code == 200

    blocked = running.get("/api/job", headers={"X-Block": "1"})
    assert blocked.status_code == 418 and blocked.headers["X-Demo"] == "yes"
    assert running.get("/api/job").headers["X-Demo"] == "yes"

    robot = requests.get(url + "/api/currentuser", headers={"X-Api-Key": "magic"}, timeout=10).json()
    assert robot["name"] == "robot" and "PLUGIN_DEMO_RUN" in robot["permissions"]
    keys = [p["key"] for p in running.get("/api/access/permissions").json()["permissions"]]
    assert "PLUGIN_DEMO_RUN" in keys and not any("BAD" in k for k in keys)
    assert "PLUGIN_DEMO_RUN" not in running.get("/api/currentuser", role="viewer").json()["permissions"]

    commands = running.get("/api/system/commands").json()
    # under "plugin" as <plugin>:<action>, as in OctoPrint ("custom" is its system.actions setting)
    assert [c["action"] for c in commands["plugin"]] == ["demo:touch"] and commands["custom"] == []
    assert running.post("/api/system/commands/custom/touch").status_code == 404
    assert running.post("/api/system/commands/plugin/demo:touch").status_code == 204
    assert os.path.exists(tmp_path / "ran")

    assert ("startup", running.server.port) in record and ("after_startup",) in record
    assert ("event", "Startup") in record
    running.server.stop()
    assert ("shutdown",) in record


def test_sockjs_hooks(start_server, tmp_path):
    record = []
    running = start_server(plugins={"demo": make_plugin(record, tmp_path / "ran")})
    ws = websocket.create_connection(running.url.replace("http", "ws") + "/sockjs/websocket", timeout=10)
    try:
        assert "connected" in json.loads(ws.recv())
        session = running.post("/api/login", role="user", json={"passive": True}).json()["session"]
        ws.send(json.dumps({"auth": f"user:{session}"}))
        assert "history" in json.loads(ws.recv())
        running.context.push.broadcast_plugin("hidden", {"n": 1})
        running.context.push.broadcast_plugin("shown", {"n": 2})
        message = json.loads(ws.recv())
        while "plugin" not in message:
            message = json.loads(ws.recv())
        assert message["plugin"]["plugin"] == "shown"
        assert ("authed", "user") in record
    finally:
        ws.close()
    record.append(("refuse",))
    refused = websocket.create_connection(running.url.replace("http", "ws") + "/sockjs/websocket", timeout=10)
    try:
        assert refused.recv() == ""
    finally:
        refused.close()


def test_users_factory_hook_replaces_the_user_manager(start_server, tmp_path):
    custom = UserManager(str(tmp_path / "elsewhere.yaml"))
    custom.add_user("external", "password1", admin=True)
    key = custom.get_or_create_api_key("external")
    module = types.ModuleType("users_plugin")
    module.__plugin_hooks__ = {"octoprint.access.users.factory": lambda components, settings, *a, **k: custom}
    running = start_server(users=False, plugins={"users": module})
    assert running.context.user_manager is custom
    response = requests.get(running.url + "/api/currentuser", headers={"X-Api-Key": key}, timeout=10)
    assert response.json()["name"] == "external"
