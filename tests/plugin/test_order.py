"""Handler order exactly as the hook reference describes it."""


def test_ordered_handlers_first_then_unordered_by_identifier(plugin_folder, manager_for):
    # The seed's example: orderedhook (order 1), anotherorderedhook (order 2), yetanotherhook (none).
    for name, order in [("oneorderedhook", 1), ("anotherorderedhook", 2), ("yetanotherhook", None)]:
        value = f"(callback, {order})" if order is not None else "callback"
        plugin_folder(f"{name}.py", f'''
            def callback(*args, **kwargs):
                return "{name}"
            __plugin_hooks__ = {{"octoprint.plugin.ordertest.callback": {value}}}
        ''')
    pm = manager_for()
    assert [r for _, r in pm.call("octoprint.plugin.ordertest.callback")] == [
        "oneorderedhook", "anotherorderedhook", "yetanotherhook"]


def test_equal_order_falls_back_to_identifier_and_unordered_sort_by_identifier(plugin_folder, manager_for):
    for name, order in [("zeta", 5), ("alpha", 5), ("mid", -3), ("beta", None), ("aardvark", None)]:
        value = f"(h, {order})" if order is not None else "h"
        plugin_folder(f"{name}.py", f'''
            def h(*args, **kwargs):
                return "{name}"
            __plugin_hooks__ = {{"comm.protocol.gcode.sent": {value}}}
        ''')
    pm = manager_for()
    assert [pid for pid, _ in pm.handlers("comm.protocol.gcode.sent")] == ["mid", "alpha", "zeta", "aardvark", "beta"]


def test_native_and_dict_handlers_share_one_order(plugin_folder, manager_for):
    plugin_folder("native_first.py", '''
        from octohost.plugin import hookimpl, order

        @hookimpl
        @order(0)
        def comm_protocol_gcode_queuing(cmd):
            return cmd + " native",
    ''')
    plugin_folder("dict_second.py", '''
        def h(comm, phase, cmd, *args, **kwargs):
            return cmd + " dict",
        __plugin_hooks__ = {"octoprint.comm.protocol.gcode.queuing": (h, 10)}
    ''')
    plugin_folder("native_unordered.py", '''
        from octohost.plugin import hookimpl

        @hookimpl
        def comm_protocol_gcode_queuing(cmd):
            return cmd + " last",
    ''')
    pm = manager_for()
    cmd = "G1"
    for _, handler in pm.handlers("comm.protocol.gcode.queuing"):
        cmd = handler(None, "queuing", cmd, None, "G1", subcode=None, tags=set())[0]
    assert cmd == "G1 native dict last"


def test_handler_cache_is_rebuilt_when_plugins_change(settings):
    import types

    from octohost.plugin import PluginManager

    pm = PluginManager(settings)
    assert pm.handlers("comm.protocol.gcode.sent") == ()
    module = types.SimpleNamespace(__plugin_hooks__={"comm.protocol.gcode.sent": lambda *a, **k: "x"})
    pm.register_module("late", module)
    assert [pid for pid, _ in pm.handlers("comm.protocol.gcode.sent")] == ["late"]
