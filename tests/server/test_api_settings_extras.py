"""GCODE scripts and custom controls through /api/settings, the custom controls API, the plugin list."""

import hashlib
import os
import types

from octohost.events import Events

from support import wait_until

CONTROLS = [{"name": "Lights", "children": [{"name": "On", "command": "M355 S1"},
                                            {"name": "Beep", "commands": ["M300 S440 P200", "M300 S660 P200"],
                                             "confirm": "Really beep?"}]},
            {"name": "Report", "script": "report"}]


def test_scripts_are_read_and_saved_through_settings_and_bad_syntax_saves_nothing(running):
    scripts = running.context.printer.scripts
    gcode = running.get("/api/settings").json()["scripts"]["gcode"]
    assert "M84" in gcode["afterPrintCancelled"] and gcode["afterPrintDone"] == ""
    # readers see the scripts as in OctoPrint; only SETTINGS holders change them (the last line)
    assert running.get("/api/settings", role="user").json()["scripts"]["gcode"] == gcode

    saved = running.post("/api/settings", json={"scripts": {"gcode": {"afterPrintDone": "M117 done {{ script.name }}\n",
                                                                      "afterPrintPaused": gcode["afterPrintPaused"]}}})
    assert saved.status_code == 200
    assert saved.json()["scripts"]["gcode"]["afterPrintDone"] == "M117 done {{ script.name }}\n"
    assert scripts.render("afterPrintDone") == ["M117 done afterPrintDone"]
    assert sorted(os.listdir(scripts.folder)) == ["afterPrintDone"]

    broken = running.post("/api/settings", json={"appearance": {"name": "Broken"},
                                                 "scripts": {"gcode": {"beforePrintStarted": "M117 ok\n",
                                                                       "afterPrintDone": "{% if %}"}}})
    assert broken.status_code == 400 and "afterPrintDone" in broken.json()["error"]
    assert scripts.get_source("afterPrintDone") == "M117 done {{ script.name }}\n"
    assert scripts.get_source("beforePrintStarted") == ""
    assert running.context.settings.get("appearance.name") == ""
    for body in ({"scripts": {"gcode": {"../escape": "M84"}}}, {"scripts": {"gcode": {"x": 5}}},
                 {"scripts": ["M84"]}, {"scripts": {"gcode": {}, "other": {}}}):
        response = running.post("/api/settings", json=body)
        assert response.status_code == 400 and "error" in response.json(), body
    assert running.post("/api/settings", role="user", json={"scripts": {"gcode": {"x": "M84"}}}).status_code == 403


def test_custom_controls_are_saved_checked_and_served(running):
    assert running.get("/api/printer/command/custom", role="user").json() == {"controls": []}
    assert running.post("/api/settings", json={"controls": CONTROLS}).status_code == 200
    assert running.get("/api/printer/command/custom", role="user").json() == {"controls": CONTROLS}
    for bad, message in (([{"name": "x"}], "controls[0] needs"),
                         ([{"name": "x", "command": "G28", "script": "s"}], "more than one"),
                         ([{"children": [{"commands": []}]}], "controls[0].children[0].commands"),
                         ([{"command": "G1 X{x}", "input": [{"name": "X"}]}], "input[0].parameter"),
                         ("G28", "must be a list")):
        response = running.post("/api/settings", json={"controls": bad})
        assert response.status_code == 400 and message in response.json()["error"], bad
    assert running.get("/api/printer/command/custom", role="user").json() == {"controls": CONTROLS}


def test_a_feedback_control_gets_its_keys_and_fires_registered_message_received(running):
    """A control with ``regex`` and ``template`` shows what the printer answers, as in OctoPrint."""
    feedback = {"name": "Position", "regex": "X:([0-9.]+) Y:([0-9.]+)", "template": "at {0}/{1}"}
    key, template_key = (hashlib.md5(feedback[k].encode()).hexdigest() for k in ("regex", "template"))
    received = []
    running.context.event_bus.subscribe(Events.REGISTERED_MESSAGE_RECEIVED,
                                        lambda event, payload: received.append(payload))
    controls = [{"name": "Box", "children": [feedback]}]
    assert running.post("/api/settings", json={"controls": controls}).status_code == 200
    served = running.get("/api/printer/command/custom", role="user").json()["controls"][0]["children"][0]
    assert served == dict(feedback, key=key, template_key=template_key)
    assert running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"}).status_code == 204
    wait_until(running.context.printer.is_operational)
    assert running.post("/api/printer/command", json={"commands": ["G1 X12 Y34", "M114"]}).status_code == 204
    payload = wait_until(lambda: received and received[-1], message="RegisteredMessageReceived")
    assert payload == {"key": key, "matched": "X:12.00 Y:34.00", "outputs": {template_key: "at 12.00/34.00"}}


def test_hand_edited_controls_in_the_wrong_shape_are_ignored(start_server):
    running = start_server(settings_values={"controls": [{"name": "no action"}]})
    assert running.get("/api/printer/command/custom").json() == {"controls": []}


def test_plugin_list_in_octoprint_shape_for_admins(start_server):
    plugin = types.ModuleType("lister")
    plugin.__plugin_name__ = "Lister"
    plugin.__plugin_version__ = "1.2.3"
    plugin.__plugin_description__ = "Shows up in the list."
    running = start_server(plugins={"lister": plugin})
    assert running.get("/api/version").json()["capabilities"]["pluginList"] == "/plugin/pluginmanager/plugins"
    plugins = running.get("/plugin/pluginmanager/plugins").json()["plugins"]
    lister = next(p for p in plugins if p["key"] == "lister")
    assert (lister["name"], lister["version"], lister["enabled"]) == ("Lister", "1.2.3", True)
    assert lister["bundled"] == (lister["origin"] == "bundled")
    assert lister["description"] == "Shows up in the list." and lister["loaded"] is True
    assert running.get("/plugin/pluginmanager/plugins", role="user").status_code == 403


def test_settings_readers_see_octoprints_sections_without_secrets(running):
    """SETTINGS_READ alone (the read-only group too, as in OctoPrint) shows OctoPrint's sections,
    but not access control, events, server internals or plugins' settings."""
    running.context.settings.update([(("server", "commands", "systemShutdownCommand"), "sudo halt"),
                                     (("controls",), [{"name": "Lights", "command": "M355 S1"}])])
    for role, controls in (("user", [{"name": "Lights", "command": "M355 S1"}]), ("viewer", [])):
        answer = running.get("/api/settings", role=role)
        assert answer.status_code == 200, role
        tree = answer.json()
        assert {"api", "serial", "temperature", "feature", "appearance", "folder", "server", "scripts",
                "controls", "plugins"} <= set(tree), role
        assert not {"accessControl", "events", "files"} & set(tree), role
        assert tree["server"] == {"commands": {"serverRestartCommand": None, "systemRestartCommand": None,
                                               "systemShutdownCommand": "sudo halt"}}
        assert set(tree["plugins"]) == {"discovery"} and set(tree["folder"]) == {"uploads"}
        assert tree["controls"] == controls, role


def test_settings_answer_and_take_octoprints_key_names(running):
    """OctoPrint's flat serial keys are aliases of octohost's nested ones both ways; its UI switches
    answer its defaults and are ignored in a POST; an unset system command is null."""
    tree = running.get("/api/settings").json()
    serial = tree["serial"]
    assert serial["timeoutConnection"] == serial["timeout"]["connection"]
    assert serial["maxTimeoutsPrinting"] == serial["maxCommunicationTimeouts"]["printing"]
    assert serial["disconnectOnErrors"] is False and serial["blockedCommands"] == ["M0", "M1"]
    assert serial["pausingCommands"] == ["M0", "M1", "M25"] and serial["ignoredCommands"] == []
    assert serial["emergencyCommands"] == ["M112", "M108", "M410"]
    assert serial["ackMax"] == 1
    assert serial["lowLatency"] is False
    assert "VIRTUAL" in serial["portOptions"] and 115200 in serial["baudrateOptions"]
    assert tree["feature"]["keyboardControl"] is True and tree["appearance"]["fuzzyTimes"] is True
    assert tree["temperature"]["sendAutomatically"] is False
    assert tree["server"]["commands"]["serverRestartCommand"] is None

    tree["serial"]["timeoutConnection"] = 12.5
    tree["serial"]["maxTimeoutsIdle"] = 7
    tree["serial"]["lowLatency"] = True  # a setting here too: requested at the next connect
    tree["serial"]["blockedCommands"] = ["M0"]  # a setting here too
    tree["serial"]["ackMax"] = 5
    tree["serial"]["emergencyCommands"] = ["M112", "M108"]
    tree["feature"]["keyboardControl"] = False
    tree["serial"]["baudrate"] = None
    saved = running.post("/api/settings", json={k: tree[k] for k in ("serial", "feature", "appearance",
                                                                     "temperature")})
    assert saved.status_code == 200, saved.text
    settings = running.context.settings
    assert settings.get("serial.timeout.connection") == 12.5
    assert settings.get("serial.maxCommunicationTimeouts.idle") == 7
    assert settings.get("serial.lowLatency") is True
    assert settings.get("serial.baudrate") == 0 and saved.json()["serial"]["baudrate"] is None
    assert settings.get("serial.blockedCommands") == ["M0"]
    assert settings.get("serial.emergencyCommands") == ["M112", "M108"]
    assert saved.json()["serial"]["ackMax"] == 1  # not a setting here: ignored
