"""run_handlers: the one loop that calls hook handlers (order, chaining, isolation, timing)."""

import logging

from octohost.plugin import handlers as handlers_module
from octohost.plugin.handlers import run_handlers


def test_results_in_order_and_a_raising_handler_is_logged_with_its_plugin_and_skipped(caplog):
    def broken(value):
        raise RuntimeError("broken plugin")

    entries = (("a", lambda value: value + 1), ("bad", broken), ("c", lambda value: value * 10))
    with caplog.at_level(logging.ERROR):
        results = list(run_handlers("some.hook", entries, lambda handler: handler(1), subject="G1"))
    assert results == [("a", 2), ("c", 10)]
    assert "plugin bad raised in the some.hook hook for 'G1'; skipped" in caplog.text


def test_failed_stands_in_for_a_raising_handler():
    def broken():
        raise ValueError

    assert list(run_handlers("h", (("bad", broken), ("ok", lambda: 5)), lambda h: h(), failed=None)) == \
        [("bad", None), ("ok", 5)]


def test_handlers_chain_through_the_invoking_closure():
    current = ["g1 x1"]
    entries = (("upper", str.upper), ("strip", lambda text: text.replace(" ", "")))
    seen = []
    for _, result in run_handlers("h", entries, lambda handler: handler(current[0])):
        seen.append(result)
        current[0] = result
    assert seen == ["G1 X1", "G1X1"]


def test_a_slow_handler_is_named(caplog, monkeypatch):
    monkeypatch.setattr(handlers_module, "SLOW_HANDLER", -1.0)  # every handler is "slow"; no sleeping
    with caplog.at_level(logging.WARNING):
        assert list(run_handlers("h", (("sloth", lambda: 1),), lambda h: h())) == [("sloth", 1)]
    assert "plugin sloth took" in caplog.text and "in the h hook" in caplog.text


def test_the_plugin_manager_calls_through_it(caplog, monkeypatch):
    import types

    from octohost.plugin import PluginManager

    def broken(*args):
        raise RuntimeError("broken plugin")

    pm = PluginManager()
    good = {"octoprint.comm.protocol.action": lambda *a: "ok"}
    pm.register_module("good", types.SimpleNamespace(__plugin_hooks__=good))
    pm.register_module("bad", types.SimpleNamespace(__plugin_hooks__={"octoprint.comm.protocol.action": broken}))
    monkeypatch.setattr(handlers_module, "SLOW_HANDLER", -1.0)
    with caplog.at_level(logging.WARNING):
        assert pm.call("comm.protocol.action", None, "x") == [("good", "ok")]
    assert "plugin bad raised in the comm.protocol.action hook" in caplog.text
    assert "plugin good took" in caplog.text  # PluginManager.call named no slow handler before
