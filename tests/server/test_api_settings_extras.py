"""GCODE scripts and custom controls through /api/settings, the custom controls API, the plugin list."""

import os
import types

CONTROLS = [{"name": "Lights", "children": [{"name": "On", "command": "M355 S1"},
                                            {"name": "Beep", "commands": ["M300 S440 P200", "M300 S660 P200"],
                                             "confirm": "Really beep?"}]},
            {"name": "Report", "script": "report"}]


def test_scripts_are_read_and_saved_through_settings_and_bad_syntax_saves_nothing(running):
    scripts = running.context.printer.scripts
    gcode = running.get("/api/settings").json()["scripts"]["gcode"]
    assert "M84" in gcode["afterPrintCancelled"] and gcode["afterPrintDone"] == ""
    assert "scripts" not in running.get("/api/settings", role="user").json()

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
