"""OctoPrint's plugin lifecycle on a live octohost: startup, settings, events, progress, messages, API."""

import pytest
from test_real_plugins import PushClient

from support import wait_until

pytestmark = pytest.mark.e2e

PROBE = '''
import flask
import octoprint.plugin
from octoprint.events import Events


class Probe(octoprint.plugin.StartupPlugin, octoprint.plugin.EventHandlerPlugin, octoprint.plugin.ProgressPlugin,
            octoprint.plugin.SettingsPlugin, octoprint.plugin.SimpleApiPlugin):
    def __init__(self):
        self.calls = []
        self.progress = []

    def initialize(self):
        self.calls.append(["initialize", self._printer is not None, self._file_manager is not None])

    def on_startup(self, host, port):
        self.calls.append(["startup", port])

    def on_after_startup(self):
        self.calls.append(["after_startup"])

    def get_settings_defaults(self):
        return {"greeting": "hello", "volume": 3}

    def on_settings_save(self, data):
        diff = octoprint.plugin.SettingsPlugin.on_settings_save(self, data)
        self.calls.append(["saved", diff])
        return diff

    def on_event(self, event, payload):
        if event == Events.PRINT_DONE:
            self.calls.append(["done", payload["path"]])
            self._plugin_manager.send_plugin_message(self._identifier, {"done": payload["path"],
                                                                        "greeting": self._settings.get(["greeting"])})

    def on_print_progress(self, storage, path, progress):
        self.progress.append([storage, path, progress])

    def on_api_get(self, request):
        return flask.jsonify(calls=self.calls, progress=self.progress)


__plugin_pythoncompat__ = ">=3.7,<4"
__plugin_implementation__ = Probe()
'''


def test_a_print_reaches_an_octoprint_plugin_through_its_whole_lifecycle(fake_dist, live_octoprint):
    fake_dist("OctoPrint-Probe", "probe", "octoprint_probe_mod", PROBE)
    live = live_octoprint(connect_virtual=True, settings_values={"serial.virtual.timeScale": 50.0})
    state = lambda: live.get("/api/plugin/probe").json()  # noqa: E731
    calls = wait_until(lambda: ["after_startup"] in state()["calls"] and state()["calls"], message="startup calls")
    assert calls[:3] == [["initialize", True, True], ["startup", live.server.port], ["after_startup"]]

    assert live.get("/api/settings").json()["plugins"]["probe"] == {"greeting": "hello", "volume": 3}
    saved = live.post("/api/settings", json={"plugins": {"probe": {"greeting": "moin"}}})
    assert saved.status_code == 200, saved.text
    assert saved.json()["plugins"]["probe"] == {"greeting": "moin", "volume": 3}
    assert ["saved", {"greeting": "moin"}] in state()["calls"]

    push = PushClient(live)
    try:
        wait_until(live.context.printer.is_operational, message="printer operational")
        gcode = b"G28\n" + b"G1 X10 Y10 F6000\nG1 X20 Y20\n" * 100
        assert live.post("/api/files/local", files={"file": ("cube.gcode", gcode)}).status_code == 201
        assert live.post("/api/files/local/cube.gcode", json={"command": "select", "print": True}).status_code == 204
        message = wait_until(lambda: push.plugin_messages("probe"), timeout=60, message="PrintDone message")[0]
        assert message == {"done": "cube.gcode", "greeting": "moin"}
        progress = state()["progress"]
        assert progress[-1] == ["local", "cube.gcode", 100]
        assert progress == [["local", "cube.gcode", percent] for percent in range(101)]
    finally:
        push.close()


TAGS = '''
import flask
import octoprint.plugin

seen = []


def record(comm_instance, phase, cmd, cmd_type, gcode, subcode=None, tags=None, *args, **kwargs):
    seen.append([cmd, sorted(tags or [])])


class Tags(octoprint.plugin.SimpleApiPlugin):
    def on_api_get(self, request):
        return flask.jsonify(seen)


__plugin_pythoncompat__ = ">=3.7,<4"
__plugin_implementation__ = Tags()
__plugin_hooks__ = {"octoprint.comm.protocol.gcode.sending": record}
'''


def test_gcode_hooks_see_octoprints_tags_on_the_hello_and_api_commands(fake_dist, live_octoprint):
    fake_dist("OctoPrint-Tags", "tags", "octoprint_tags_mod", TAGS)
    live = live_octoprint(connect_virtual=True)
    wait_until(live.context.printer.is_operational, message="printer operational")
    assert live.post("/api/printer/command", json={"command": "M117 hi"}).status_code == 204
    assert live.post("/api/printer/printhead", json={"command": "home", "axes": ["x"]}).status_code == 204
    seen = wait_until(lambda: (lambda s: len([c for c, _ in s if c.startswith(("M117", "G28"))]) == 2 and s)(
        live.get("/api/plugin/tags").json()), message="the API commands through the sending hook")
    # (FixCBDFirmware, also installed, rewrote the hello and G28 first: OctoPrint adds its rewrite tags)
    assert seen[0][0].startswith("M110") and "trigger:comm.say_hello" in seen[0][1]
    # as OctoPrint tags them: the printer method's trigger, and commands() adds its own to every line
    assert ["M117 hi", ["api:printer.command", "source:api", "trigger:printer.commands"]] in seen
    assert any(cmd.startswith("G28") and {"api:printer.printhead", "source:api", "trigger:printer.home",
                                          "trigger:printer.commands"} <= set(tags) for cmd, tags in seen)


GUARDED = '''
import flask
import octoprint.plugin
from octoprint.access.permissions import Permissions
from octoprint.server import admin_permission
from octoprint.server.util.flask import get_json_command_from_request, no_firstrun_access, restricted_access


class Guarded(octoprint.plugin.BlueprintPlugin):
    def is_blueprint_protected(self):
        return False  # the decorators alone guard the routes

    @octoprint.plugin.BlueprintPlugin.route("/open", methods=["GET"])
    def open(self):
        return "open"

    @octoprint.plugin.BlueprintPlugin.route("/login", methods=["GET"])
    @restricted_access
    def login(self):
        return "logged in"

    @octoprint.plugin.BlueprintPlugin.route("/settings", methods=["GET"])
    @no_firstrun_access
    @Permissions.SETTINGS.require(403)
    def settings(self):
        return "settings"

    @octoprint.plugin.BlueprintPlugin.route("/admin", methods=["GET"])
    def admin(self):
        with admin_permission.require(http_exception=403):
            return "admin"

    @octoprint.plugin.BlueprintPlugin.route("/command", methods=["POST"])
    @restricted_access
    def command(self):
        command, data, response = get_json_command_from_request(flask.request, {"go": ["speed"]})
        if response is not None:
            return response
        return flask.jsonify(command=command, speed=data["speed"])


__plugin_pythoncompat__ = ">=3.7,<4"
__plugin_implementation__ = Guarded()
'''


def test_blueprint_permission_and_login_decorators_guard_plugin_routes(fake_dist, live_octoprint):
    fake_dist("OctoPrint-Guarded", "guarded", "octoprint_guarded_mod", GUARDED)
    live = live_octoprint(connect_virtual=False)
    live.context.user_manager.add_user("operator", "operator-pw")
    operator = live.session.__class__()
    operator.headers["X-Api-Key"] = live.context.user_manager.get_or_create_api_key("operator")
    anonymous = live.session.__class__()

    def status(session, path, **kwargs):
        method = session.post if "json" in kwargs else session.get
        return method(live.url + "/plugin/guarded" + path, timeout=30, **kwargs).status_code

    assert [status(anonymous, p) for p in ("/open", "/login", "/settings", "/admin")] == [200, 403, 403, 403]
    assert [status(operator, p) for p in ("/open", "/login", "/settings", "/admin")] == [200, 200, 403, 403]
    assert [status(live.session, p) for p in ("/open", "/login", "/settings", "/admin")] == [200, 200, 200, 200]
    assert live.post("/plugin/guarded/command", json={"command": "go", "speed": 3}).json() == \
        {"command": "go", "speed": 3}
    assert status(live.session, "/command", json={"command": "go"}) == 400
    assert status(live.session, "/command", json={"command": "fly"}) == 400
    assert status(anonymous, "/command", json={"command": "go", "speed": 3}) == 403
