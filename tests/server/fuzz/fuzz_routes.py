"""What the fuzzer sends where: the server's own route tables plus a short description per route.

The routes come from the server (the REST API's blueprints, the Tornado application's rules), so
a new route is fuzzed the day it appears, with generic bodies; ``test_fuzz_routes_described``
fails until it has an entry here saying what a valid-ish request looks like. The descriptions
only say what a plausible body, query or path parameter is: the mutations and the checks are the
same for every route.
"""

import re

from flask import Flask
from fuzz_values import HUGE_INTS, TRAVERSALS, nasty, nasty_text, plain_text, weighted
from hypothesis import strategies as st

from octohost.server.api import api_blueprints

# -- shared pieces -------------------------------------------------------------------------------

#: the fixture's files: a G-code file and a model in the root, a folder with a file, a symlink
#: ``escape`` that leads out of the uploads folder into the sentinel folder
FIXTURE_FILES = ("fuzz.gcode", "model.stl", "folder", "folder/inner.gcode")
user_names = st.one_of(st.sampled_from(["victim", "missing", "fuzz.new", "admin", "user"]), nasty_text())
#: user names a path may name: never the identities the fuzzer itself uses (it would lock itself out)
target_users = st.one_of(st.sampled_from(["victim", "missing", "fuzz.new"]),
                         nasty_text().filter(lambda n: n not in ("admin", "user", "viewer")))
passwords = st.one_of(st.sampled_from(["secret-pw", "wrong", ""]), plain_text)
numbers = st.one_of(st.integers(-50, 400), st.floats(-50, 400), st.sampled_from(HUGE_INTS), st.sampled_from(HUGE_INTS))
file_paths = st.one_of(st.sampled_from(FIXTURE_FILES + ("missing.gcode", "new.gcode", "folder/new", "escape/x.gcode")),
                       st.sampled_from(TRAVERSALS), nasty_text())
flag = weighted(("true", 3), ("false", 2), ("1", 1), ("yes", 1), ("", 1))
intish = st.one_of(st.integers(-5, 2000).map(str), st.sampled_from([str(n) for n in HUGE_INTS] + ["9" * 5000, "0x10",
                                                                                                   " 5", "1e3"]),
                   plain_text)
GCODE = ["M105", "M114", "G28", "G28 X", "G1 X10 Y10 F3000", "G91", "G90", "M117 fuzz", "M400", "G4 P1", "M115",
         "M300 S440 P10", "M20", "M21", "M27", "M106 S255", "M107", "M84", "T0", "T1", "M110 N0", "N5 M105*99"]
gcode = st.one_of(st.sampled_from(GCODE), plain_text, st.integers(1000, 10000).map(lambda n: "M117 " + "x" * n))
SCRIPTS = ["afterPrinterConnected", "beforePrintStarted", "afterPrintCancelled", "afterPrintDone", "missing"]


def one_command(**commands):
    """A ``{"command": name, ...}`` body: ``commands`` maps each name to its fields (a dict of
    strategies, all present: the mutations take some away)."""
    return st.one_of([st.fixed_dictionaries({"command": st.just(name), **fields})
                      for name, fields in commands.items()])


def fields(required=None, **optional):
    return st.fixed_dictionaries(required or {}, optional=optional)


heaters = weighted(("tool0", 4), ("tool1", 1), ("bed", 1), ("chamber", 1), ("tool9", 1)) | plain_text
heater_map = st.dictionaries(heaters, numbers, min_size=1, max_size=3)
control = st.fixed_dictionaries({"name": plain_text},
                                optional={"command": gcode, "commands": st.lists(gcode, max_size=3),
                                          "script": st.sampled_from(SCRIPTS), "confirm": plain_text})
container = fields(name=plain_text, children=st.lists(control, max_size=2),
                   layout=st.sampled_from(["vertical", "horizontal"]))
settings_tree = st.one_of(
    st.fixed_dictionaries({"appearance": fields(name=plain_text, color=st.sampled_from(["default", "red", "x"]))}),
    st.fixed_dictionaries({"webcam": fields(streamUrl=plain_text, snapshotUrl=plain_text, webcamEnabled=st.booleans(),
                                            flipH=st.booleans(), ffmpegPath=plain_text,
                                            cameras=st.lists(fields(name=plain_text, snapshot=plain_text,
                                                                    flipV=nasty), max_size=2) | nasty,
                                            timelapse=fields(type=st.sampled_from(["off", "zchange", "x"]),
                                                             fps=numbers))}),
    st.fixed_dictionaries({"temperature": fields(profiles=st.lists(fields(name=plain_text, extruder=numbers,
                                                                          bed=numbers), max_size=2))}),
    st.fixed_dictionaries({"feature": fields(sdSupport=st.just(True), temperatureGraph=st.booleans())}),
    st.fixed_dictionaries({"serial": fields(timeout=fields(communication=numbers), log=st.booleans())}),
    st.fixed_dictionaries({"plugins": st.dictionaries(plain_text, st.dictionaries(plain_text, nasty, max_size=2),
                                                      max_size=2)}),
    st.fixed_dictionaries({"scripts": st.fixed_dictionaries({"gcode": st.dictionaries(
        st.sampled_from(SCRIPTS), st.sampled_from(["M117 hi", "{% if x %}G28{% endif %}", "{{", ""]) | plain_text,
        max_size=2)})}),
    st.fixed_dictionaries({"controls": st.lists(control | container, max_size=3)}),
    st.fixed_dictionaries({"api": fields(allowCrossOrigin=st.booleans())}),
    st.fixed_dictionaries({"server": fields(secretKey=plain_text)}),
)
profile = fields(id=st.sampled_from(["fuzzprofile", "_default", "x y"]) | plain_text, name=plain_text,
                 model=plain_text, heatedBed=st.just(True), heatedChamber=st.booleans(),
                 volume=fields(width=numbers, depth=numbers, height=numbers,
                               formFactor=st.sampled_from(["rectangular", "circular", "x"]),
                               origin=st.sampled_from(["lowerleft", "center"])),
                 axes=fields(x=fields(speed=numbers, inverted=st.booleans())),
                 extruder=fields(count=st.sampled_from([1, 2]), nozzleDiameter=numbers,
                                 offsets=st.lists(st.lists(numbers, max_size=2), max_size=2)),
                 default=st.booleans())

# -- the REST API (Flask): endpoint -> method -> valid-ish body (None: the route takes no body) --------

BODIES = {
    "core.version": {"GET": None},
    "core.server": {"GET": None},
    "core.current_user": {"GET": None},
    "core.login": {"POST": fields({"user": user_names, "pass": passwords}, remember=st.booleans(),
                                  passive=st.booleans()) | st.just({"passive": True})},
    "core.logout": {"POST": None},
    "core.setup_admin": {"POST": fields({"user": user_names, "pass": passwords})},
    "appkeys.probe": {"GET": None},
    "appkeys.request_key": {"POST": fields({"app": plain_text}, user=user_names)},
    "appkeys.poll": {"GET": None},
    "appkeys.pending": {"GET": None},
    "appkeys.decide": {"POST": fields({"decision": st.booleans()})},
    "appkeys.list_keys": {"GET": None},
    "appkeys.key_command": {"POST": one_command(generate={"app": plain_text}, revoke={"key": plain_text})},
    "settings.get_settings": {"GET": None},
    "settings.save_settings": {"POST": settings_tree},
    "connection.state": {"GET": None},
    "connection.command": {"POST": one_command(
        connect={"port": st.just("VIRTUAL"), "baudrate": st.sampled_from([0, 115200, 250000]),
                 "printerProfile": st.sampled_from(["_default", "missing"]), "save": st.booleans(),
                 "autoconnect": st.booleans()},
        disconnect={}, fake_ack={})},
    "printer.state": {"GET": None},
    "printer.printhead": {"POST": one_command(
        jog={"x": numbers, "y": numbers, "z": numbers, "speed": numbers, "absolute": st.booleans()},
        home={"axes": st.lists(st.sampled_from(["x", "y", "z", "e", "w"]), max_size=4)},
        feedrate={"factor": numbers})},
    "printer.tool_state": {"GET": None},
    "printer.tool_command": {"POST": one_command(
        target={"targets": heater_map}, offset={"offsets": heater_map},
        select={"tool": st.sampled_from(["tool0", "tool1", "tool99", "bed"]) | plain_text},
        extrude={"amount": numbers, "speed": numbers}, flowrate={"factor": numbers})},
    "printer.bed_state": {"GET": None},
    "printer.bed_command": {"POST": one_command(target={"target": numbers}, offset={"offset": numbers})},
    "printer.chamber_state": {"GET": None},
    "printer.chamber_command": {"POST": one_command(target={"target": numbers}, offset={"offset": numbers})},
    "printer.sd_state": {"GET": None},
    "printer.sd_command": {"POST": one_command(init={}, refresh={}, release={})},
    "printer.send_commands": {"POST": st.one_of(
        fields({"command": gcode}, parameters=st.dictionaries(plain_text, nasty, max_size=2)),
        fields({"commands": st.lists(gcode, max_size=5)}),
        fields({"commands": st.lists(st.sampled_from(["M117 {name}", "G1 X{x}"]), max_size=2)},
               parameters=fields(name=plain_text, x=numbers)),
        fields({"script": st.sampled_from(SCRIPTS)}, context=st.dictionaries(plain_text, nasty, max_size=2)))},
    "printer.custom_controls": {"GET": None},
    "job.job": {"GET": None},
    "job.job_command": {"POST": one_command(start={}, cancel={}, restart={}, recover={},
                                            pause={"action": st.sampled_from(["pause", "resume", "toggle", "x"])})},
    "job.dismiss_recovery": {"DELETE": None},
    "files.list_all": {"GET": None},
    "files.list_location": {"GET": None},
    "files.file_resource": {"GET": None},
    "files.upload": {"POST": "multipart"},
    "files.file_command": {"POST": one_command(select={"print": st.booleans()}, unselect={}, slice={}, analyse={},
                                               copy={"destination": file_paths}, move={"destination": file_paths})},
    "files.delete": {"DELETE": None},
    "profiles.list_profiles": {"GET": None},
    "profiles.get_profile": {"GET": None},
    "profiles.add_profile": {"POST": fields({"profile": profile}, basedOn=st.sampled_from(["_default", "missing"]))},
    "profiles.update_profile": {"PATCH": fields({"profile": profile})},
    "profiles.delete_profile": {"DELETE": None},
    "access.permissions": {"GET": None},
    "access.groups": {"GET": None},
    "access.list_users": {"GET": None},
    "access.add_user": {"POST": fields({"name": user_names, "password": passwords},
                                       groups=st.lists(st.sampled_from(["users", "admins", "readonly", "x"]),
                                                       max_size=3),
                                       admin=st.booleans(), active=st.booleans())},
    "access.get_user": {"GET": None},
    "access.update_user": {m: fields(groups=st.lists(st.sampled_from(["users", "admins", "readonly"]), max_size=3),
                                     admin=st.booleans(), active=st.booleans()) for m in ("PUT", "PATCH")},
    "access.delete_user": {"DELETE": None},
    "access.change_password": {"PUT": fields({"password": passwords}, current=passwords)},
    "access.get_user_settings": {"GET": None},
    "access.update_user_settings": {"PATCH": st.dictionaries(plain_text, nasty, max_size=3)},
    "access.generate_apikey": {"POST": None},
    "access.delete_apikey": {"DELETE": None},
    "system.list_commands": {"GET": None},
    "system.list_source": {"GET": None},
    "system.run": {"POST": None},
    "history.list_jobs": {"GET": None},
    "history.get_job": {"GET": None},
    "machine.describe": {"GET": None},
    "machine.command": {"POST": one_command(restart={})},
    "plugins.list_plugins": {"GET": None},
    # the bridge stays off: only settings that do not make it connect anywhere
    "mqtt.get_mqtt": {"GET": None},
    "mqtt.save_mqtt": {"POST": fields({"settings": fields(printerId=plain_text, telemetryInterval=nasty,
                                                          commands=st.booleans(), baseTopic=plain_text)})},
    "timelapse.get_timelapses": {"GET": None},
    "timelapse.configure": {"POST": fields(type=st.sampled_from(["off", "zchange", "timed", "x"]), fps=numbers,
                                           postRoll=numbers, interval=numbers, retractionZHop=numbers,
                                           minDelay=numbers, save=st.booleans(),
                                           renderAfterPrint=st.sampled_from(["always", "never", "x"]))},
    "timelapse.download": {"GET": None},
    "timelapse.delete": {"DELETE": None},
    "timelapse.delete_unrendered": {"DELETE": None},
    "timelapse.render_unrendered": {"POST": one_command(render={})},
    # OctoPrint plugins' SimpleApi endpoints (none is loaded here: every identifier is unknown, 404)
    "pluginapi.plugin_get": {"GET": None},
    "pluginapi.plugin_command": {"POST": one_command(check_all={})},
    "maintenance.list_backups": {"GET": None},
    "maintenance.create_backup": {"POST": fields(exclude=st.lists(weighted(("uploads", 3), ("plugins", 1),
                                                                           ("history", 1), ("logs", 1)) | plain_text,
                                                                  max_size=3))},
    "maintenance.delete_backup": {"DELETE": None},
    "maintenance.restore": {"POST": fields(path=st.sampled_from(["missing.zip", "../config.yaml", ""]) | nasty_text())},
    "maintenance.system_info": {"GET": None},
    "pluginapi.wizard_state": {"GET": None},
    "pluginapi.wizard_finish": {"POST": fields({"handled": st.lists(plain_text, max_size=5)})},
}

#: query parameters an endpoint reads (every request may also carry ``apikey`` and random extras)
QUERIES = {
    "printer.state": {"history": flag, "limit": intish,
                      "exclude": st.sampled_from(["temperature", "sd,state", "state", ",,"]) | plain_text},
    "printer.tool_state": {"history": flag, "limit": intish},
    "printer.bed_state": {"history": flag, "limit": intish},
    "printer.chamber_state": {"history": flag, "limit": intish},
    "files.list_all": {"recursive": flag},
    "files.list_location": {"recursive": flag},
    "files.file_resource": {"recursive": flag},
    "history.list_jobs": {"limit": intish, "offset": intish},
    "timelapse.get_timelapses": {"unrendered": flag, "force": flag},
}

#: path parameters by name, for every rule that has one
PATH_PARAMS = {
    "name": target_users,
    "target": weighted(("local", 4), ("sdcard", 1)) | nasty_text(),
    "path": file_paths,
    "job_id": st.one_of(st.integers(0, 5), st.sampled_from(HUGE_INTS).filter(lambda n: n >= 0)),
    "identifier": st.sampled_from(["_default", "fuzzprofile", "missing"]) | nasty_text(),
    "app_token": st.sampled_from(["missing"]) | nasty_text(),
    "user_token": st.sampled_from(["missing"]) | nasty_text(),
    "source": st.sampled_from(["core", "custom"]) | nasty_text(),
    "action": st.sampled_from(["restart", "shutdown", "missing"]) | nasty_text(),
    "filename": st.sampled_from(["missing.mp4", "x.gif", "..", "a.mp4.thumb.jpg"]) | nasty_text(),
}

#: a route nobody described yet is still fuzzed, with these
GENERIC_BODY = st.dictionaries(plain_text, nasty, max_size=4)
GENERIC_PATH_PARAM = nasty_text()

_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def flask_routes():
    """(rule, method, endpoint) of every REST API route, from the blueprints the server mounts."""
    app = Flask("octohost.fuzz", static_folder=None)
    for blueprint in api_blueprints():
        app.register_blueprint(blueprint)
    return sorted((rule.rule, method, rule.endpoint) for rule in app.url_map.iter_rules()
                  for method in rule.methods - {"HEAD", "OPTIONS"})


def rule_parameters(rule):
    """[(converter, name)] of a Flask rule such as ``/api/files/<target>/<path:path>``."""
    return [(converter or "default", name) for converter, name in _PARAM.findall(rule)]


def fill_rule(rule, values):
    """The rule with each ``<...>`` replaced by ``values[name]`` (already URL-quoted)."""
    return _PARAM.sub(lambda m: values[m.group(2)], rule)


# -- the Tornado routes beside the REST API -------------------------------------------------------------


class TornadoRoute:
    """``methods`` to fuzz, ``path`` a strategy for the part matched by the pattern's group, ``kind``
    of body; ``skip`` (a reason) for library handlers the HTTP fuzzer must leave alone (long-lived
    streams: they would count as hangs). The push socket has its own fuzz test."""

    def __init__(self, methods=(), example=None, path=None, kind=None, query=None, skip=None):
        self.methods = methods
        self.example = example
        self.path = path
        self.kind = kind
        self.query = query or {}
        self.skip = skip


static_paths = st.one_of(st.sampled_from(["css/octohost.css", "js/app.js", "missing.js", "../app.py",
                                          "..%2f..%2fapi%2f__init__.py", "%2e%2e/%2e%2e/server/app.py"]),
                         st.sampled_from(TRAVERSALS), nasty_text())
PUSH = "fuzzed over websockets and xhr by test_fuzz_push"
LONG_LIVED = "a streaming SockJS transport: the answer never ends by design"
TORNADO = {
    r"/$": TornadoRoute(("GET",), "/"),
    r"/static/(.*)$": TornadoRoute(("GET",), "/static/{}", path=static_paths),
    r"/sockjs/[^/.]+/(?P<session_id>[^/.]+)/xhr_send$": TornadoRoute(skip=PUSH),
    r"/sockjs/[^/.]+/(?P<session_id>[^/.]+)/jsonp_send$": TornadoRoute(skip=PUSH),
    r"/sockjs/[^/.]+/(?P<session_id>[^/.]+)/websocket$": TornadoRoute(skip=PUSH),
    r"/sockjs/[^/.]+/(?P<session_id>[^/.]+)/xhr$": TornadoRoute(skip=PUSH),
    r"/sockjs/[^/.]+/(?P<session_id>[^/.]+)/xhr_streaming$": TornadoRoute(skip=LONG_LIVED),
    r"/sockjs/[^/.]+/(?P<session_id>[^/.]+)/jsonp$": TornadoRoute(skip=PUSH),
    r"/sockjs/[^/.]+/(?P<session_id>[^/.]+)/eventsource$": TornadoRoute(skip=LONG_LIVED),
    r"/sockjs/[^/.]+/(?P<session_id>[^/.]+)/htmlfile$": TornadoRoute(skip=LONG_LIVED),
    r"/sockjs/chunking_test$": TornadoRoute(skip="sockjs-tornado's fixed 4-second chunking probe"),
    r"/sockjs/info$": TornadoRoute(("GET", "OPTIONS"), "/sockjs/info"),
    r"/sockjs/iframe[0-9-.a-z_]*.html$": TornadoRoute(("GET",), "/sockjs/iframe{}.html",
                                                       path=st.sampled_from(["", "-1.0", "x_y.z"])),
    r"/sockjs/websocket$": TornadoRoute(skip=PUSH),
    r"/sockjs/?$": TornadoRoute(("GET",), "/sockjs"),
    r"/api/files/(local|sdcard)$": TornadoRoute(("POST",), "/api/files/{}", path=st.sampled_from(["local", "sdcard"]),
                                                kind="multipart"),
    r"/metrics$": TornadoRoute(("GET",), "/metrics"),
    r"/downloads/files/local/(.*)$": TornadoRoute(("GET", "HEAD"), "/downloads/files/local/{}", path=file_paths),
    r"/downloads/thumbs/local/(.*)$": TornadoRoute(("GET",), "/downloads/thumbs/local/{}", path=file_paths,
                                                   query={"name": st.sampled_from(["thumb.png", "x"]) | nasty_text(),
                                                          "v": plain_text}),
    r"/downloads/systeminfo.zip$": TornadoRoute(("GET",), "/downloads/systeminfo.zip"),
    r"/plugin/backup/download/(.*)$": TornadoRoute(("GET", "HEAD"), "/plugin/backup/download/{}", path=file_paths),
    r"/plugin/backup/(restore)$": TornadoRoute(("POST",), "/plugin/backup/{}", path=st.just("restore"),
                                               kind="multipart"),
    r"/downloads/camera/current$": TornadoRoute(("GET",), "/downloads/camera/current",
                                                query={"webcam": st.sampled_from(["classic", "x"]) | nasty_text()}),
    r"/downloads/timelapse/(.*)$": TornadoRoute(("GET", "HEAD"), "/downloads/timelapse/{}", path=file_paths),
    r"/(api|plugin)/.*$": TornadoRoute(("GET", "POST", "PUT", "DELETE"), "/{}",
                                       path=st.sampled_from(["api/nothing", "plugin/nothing/x", "api/", "api/files/x",
                                                             "plugin/appkeys", "api/printer/"]) | nasty_text(),
                                       kind="json"),
}


def tornado_patterns(application):
    """The regex of every rule of a Tornado application."""
    return [rule.matcher.regex.pattern for rule in application.wildcard_router.rules]
