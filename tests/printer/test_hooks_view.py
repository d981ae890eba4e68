from types import SimpleNamespace

from octohost.printer.hooks import HANDLER_ID, CommPluginView
from octohost.printer.sdcard import free_remote_name


def test_view_appends_the_rewrite_only_while_active():
    plugin_handlers = {"comm.protocol.gcode.queuing": (("plugin", print),)}
    manager = SimpleNamespace(handlers=lambda name: plugin_handlers.get(name, ()), call=lambda *a: "forwarded")
    state = {"on": False}
    rewrite = object()
    view = CommPluginView(manager, rewrite, lambda: state["on"])
    base = view.handlers("comm.protocol.gcode.queuing")
    assert base is plugin_handlers["comm.protocol.gcode.queuing"]
    state["on"] = True
    combined = view.handlers("comm.protocol.gcode.queuing")
    assert combined == (("plugin", print), (HANDLER_ID, rewrite))
    assert view.handlers("comm.protocol.gcode.queuing") is combined
    assert view.handlers("comm.protocol.gcode.sent") == ()
    assert view.call("x") == "forwarded"


def test_free_remote_names_are_8_3_and_unique():
    assert free_remote_name("My Part v2.gcode", []) == "MYPARTV2.GCO"
    assert free_remote_name("My Part v2.gcode", ["MYPARTV2.GCO"]) == "MYPART~1.GCO"
    assert free_remote_name("x.gcode", ["X.GCO", "X~1.GCO"]) == "X~2.GCO"
    assert free_remote_name("...", []) == "FILE.GCO"
