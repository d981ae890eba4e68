"""Every return variant of the gcode phase hooks, with plugin files loaded by the PluginManager."""

import logging

import pytest

from octohost.comm.phases import QUEUED, Phases
from octohost.comm.sendqueue import Command

COMM = object()


def handler_plugin(phase, body):
    return f'''
def handler(comm_instance, phase, cmd, cmd_type, gcode, subcode=None, tags=None, *args, **kwargs):
{body}
__plugin_hooks__ = {{"octoprint.comm.protocol.gcode.{phase}": handler}}
'''


def run_queuing(plugins, body, command):
    phases = Phases(COMM, plugins({"p.py": handler_plugin("queuing", body)}))
    return phases.queuing(command)


def test_no_handlers_keeps_the_very_same_command():
    command = Command("G1 X1")
    assert Phases(COMM, None).queuing(command) == [command]
    assert Phases(COMM, None).sending(command) is command


def test_none_keeps_the_command(plugins):
    command = Command("G1 X1", tags={"source:api"})
    assert run_queuing(plugins, "    return None", command) == [command]


def test_string_rewrites_and_tags_the_rewrite(plugins):
    [result] = run_queuing(plugins, '    return "M106 S0" if gcode == "M107" else None',
                           Command("M107", tags={"source:api"}))
    assert result.cmd == "M106 S0" and result.gcode == "M106"
    assert result.tags == {"source:api", "source:rewrite", "phase:queuing", "plugin:p"}


def test_one_tuple_rewrites(plugins):
    [result] = run_queuing(plugins, '    return ("G28 X",)', Command("G28"))
    assert result.cmd == "G28 X"


def test_one_tuple_none_suppresses(plugins):
    assert run_queuing(plugins, "    return (None,)", Command("M300")) == []


def test_two_tuple_sets_cmd_type(plugins):
    [result] = run_queuing(plugins, '    return "M105", "temperature_poll"', Command("M105"))
    assert result.cmd == "M105" and result.cmd_type == "temperature_poll"
    assert "source:rewrite" not in result.tags  # same command, only the type changed


def test_three_tuple_adds_tags(plugins):
    [result] = run_queuing(plugins, '    return cmd, cmd_type, {"my_custom_tag"}',
                           Command("G1 X1", tags={"source:api"}))
    assert result.cmd == "G1 X1" and result.tags == {"source:api", "my_custom_tag"}


def test_list_expands_in_queuing_with_every_variant(plugins):
    body = '''    if not cmd.startswith("@foo"):
        return
    return [("M105", "temperature_poll"), ("M110",), "M117 echo foo: {}".format(cmd), (None,)]'''
    results = run_queuing(plugins, body, Command("@foo bar", tags={"source:file"}))
    assert [(r.cmd, r.cmd_type) for r in results] == [("M105", "temperature_poll"), ("M110", None),
                                                      ("M117 echo foo: @foo bar", None)]
    assert all({"source:rewrite", "plugin:p", "phase:queuing", "source:file"} <= r.tags for r in results)


def test_empty_list_suppresses(plugins):
    assert run_queuing(plugins, "    return []", Command("G1 X1")) == []


def test_list_in_sending_is_refused_and_the_command_sent_unchanged(plugins, caplog):
    phases = Phases(COMM, plugins({"p.py": handler_plugin("sending", '    return ["M1", "M2"]')}))
    command = Command("G1 X1")
    with caplog.at_level(logging.ERROR):
        assert phases.sending(command) is command
    assert "only the queuing phase may expand" in caplog.text


def test_sending_can_rewrite_and_suppress(plugins):
    phases = Phases(COMM, plugins({"p.py": handler_plugin("sending", '''    if gcode == "M300":
        return None,
    return cmd.replace("X", "Y")''')}))
    assert phases.sending(Command("M300")) is None
    assert phases.sending(Command("G1 X5")).cmd == "G1 Y5"


def test_handlers_chain_in_order(plugins):
    manager = plugins({
        "a.py": handler_plugin("queuing", '    return cmd + " A"').replace("handler}", "(handler, 1)}"),
        "b.py": handler_plugin("queuing", '    return cmd + " B"'),
    })
    [result] = Phases(COMM, manager).queuing(Command("M117 x"))
    assert result.cmd == "M117 x A B"
    assert {"plugin:a", "plugin:b"} <= result.tags


def test_a_raising_handler_is_skipped_and_logged_with_its_id(plugins, caplog):
    manager = plugins({
        "bad.py": handler_plugin("queuing", '    raise RuntimeError("boom")'),
        "good.py": handler_plugin("queuing", '    return cmd + " ok"'),
    })
    with caplog.at_level(logging.ERROR):
        [result] = Phases(COMM, manager).queuing(Command("M117 x"))
    assert result.cmd == "M117 x ok"
    assert "plugin bad raised" in caplog.text


def test_invalid_results_are_ignored(plugins, caplog):
    [result] = run_queuing(plugins, "    return 42", Command("G1 X1"))
    assert result.cmd == "G1 X1"


def test_queued_and_sent_get_every_parameter_and_their_result_is_ignored(plugins):
    manager = plugins({"p.py": '''
seen = []
def handler(comm_instance, phase, cmd, cmd_type, gcode, subcode=None, tags=None, *args, **kwargs):
    seen.append((comm_instance, phase, cmd, cmd_type, gcode, subcode, sorted(tags)))
    return "IGNORED"
__plugin_hooks__ = {"octoprint.comm.protocol.gcode.queued": handler, "octoprint.comm.protocol.gcode.sent": handler}
'''})
    phases = Phases(COMM, manager)
    phases.notify(QUEUED, Command("M80.1", cmd_type="x", tags={"source:api"}))
    phases.notify("sent", Command("G1 X1", filepos=7))
    seen = manager.plugins["p"].module.seen
    assert seen == [(COMM, "queued", "M80.1", "x", "M80", "1", ["source:api"]),
                    (COMM, "sent", "G1 X1", None, "G1", None, ["filepos:7", "source:file"])]


def test_at_command_hooks(plugins):
    manager = plugins({"p.py": '''
seen = []
def handler(comm, phase, command, parameters, tags=None, *args, **kwargs):
    seen.append((phase, command, parameters, sorted(tags)))
__plugin_hooks__ = {"octoprint.comm.protocol.atcommand.queuing": handler,
                    "octoprint.comm.protocol.atcommand.sending": handler}
'''})
    phases = Phases(COMM, manager)
    phases.atcommand("queuing", "wait", "5 s", {"source:file"})
    phases.atcommand("sending", "wait", "", set())
    assert manager.plugins["p"].module.seen == [("queuing", "wait", "5 s", ["source:file"]),
                                                ("sending", "wait", "", [])]


def test_debug_log_of_phases(plugins, caplog):
    manager = plugins({"p.py": handler_plugin("queuing", '    return [("M117 Before T!",), cmd]')})
    with caplog.at_level(logging.DEBUG, logger="octohost.comm.command_phases"):
        Phases(COMM, manager).queuing(Command("T0", tags={"source:api", "trigger:printer.commands"}))
    assert "phase: queuing | command: T0 | gcode: T | tags: [ source:api, trigger:printer.commands ]" in caplog.text


def test_debug_log_is_not_formatted_when_off(monkeypatch):
    calls = []
    monkeypatch.setattr("octohost.comm.phases.log_phase", lambda *a: calls.append(a))
    logger = logging.getLogger("octohost.comm.command_phases")
    monkeypatch.setattr(logger, "level", logging.INFO)
    logger.manager._clear_cache()
    Phases(COMM, None).queuing(Command("G1"))
    logger.manager._clear_cache()
    assert calls == []


@pytest.mark.parametrize("returned", [("M1", "t", {"x"}, "extra"), ()])
def test_bad_tuples_are_dropped(plugins, returned):
    results = run_queuing(plugins, f"    return [{returned!r}, 'M2']", Command("G1"))
    assert [r.cmd for r in results] == ["M2"]
