"""A raising handler is logged with its plugin identifier and skipped; the others still run."""

import logging


def test_raising_handler_is_skipped_and_logged(plugin_folder, manager_for, caplog):
    plugin_folder("a_raises.py", '''
        def h(*args, **kwargs):
            raise ValueError("handler exploded")
        __plugin_hooks__ = {"octoprint.comm.protocol.action": h}
    ''')
    plugin_folder("b_works.py", '''
        def h(comm, line, action, name=None, params=None, *args, **kwargs):
            return (action, name, params)
        __plugin_hooks__ = {"octoprint.comm.protocol.action": h}
    ''')
    pm = manager_for()
    with caplog.at_level(logging.ERROR):
        results = pm.call("comm.protocol.action", None, "// action:pause", "pause", name="pause", params="")
    assert results == [("b_works", ("pause", "pause", ""))]
    assert "a_raises" in caplog.text and "handler exploded" in caplog.text


def test_call_until_returns_first_accepted_result(plugin_folder, manager_for):
    hook = "octoprint.accesscontrol.keyvalidator"
    plugin_folder("a_none.py", f"__plugin_hooks__ = {{'{hook}': lambda key, *a, **k: None}}\n")
    plugin_folder("b_raises.py", f"def h(key, *a, **k):\n    raise KeyError(key)\n__plugin_hooks__ = {{'{hook}': h}}\n")
    plugin_folder("c_user.py", f"__plugin_hooks__ = {{'{hook}': lambda key, *a, **k: 'user-' + key}}\n")
    pm = manager_for()
    assert pm.call_until("accesscontrol.keyvalidator", lambda r: r is not None, "k1") == ("c_user", "user-k1")


def test_raising_initialize_does_not_stop_other_plugins(plugin_folder, manager_for, caplog):
    plugin_folder("badinit.py", '''
        class Impl:
            def initialize(self):
                raise RuntimeError("init failed")
        __plugin_implementation__ = Impl()
    ''')
    plugin_folder("goodinit.py", '''
        class Impl:
            ok = False
            def initialize(self):
                Impl.ok = True
        __plugin_implementation__ = Impl()
    ''')
    pm = manager_for()
    with caplog.at_level(logging.ERROR):
        pm.inject_components(printer=object())
    assert type(pm.plugins["goodinit"].implementation).ok
    assert "badinit" in caplog.text and "init failed" in caplog.text
