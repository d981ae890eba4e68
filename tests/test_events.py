import threading
import types

from octohost.events import EventBus, Events
from octohost.plugin import PluginManager


def test_subscribers_get_events_in_order_and_star_gets_all():
    bus = EventBus()
    try:
        specific, everything = [], []
        bus.subscribe(Events.PRINT_STARTED, lambda e, p: specific.append(p["name"]))
        bus.subscribe("*", lambda e, p: everything.append(e))
        bus.fire(Events.PRINT_STARTED, {"name": "a.gcode"})
        bus.fire(Events.PRINT_DONE, {"name": "a.gcode"})
        bus.fire(Events.PRINT_STARTED, {"name": "b.gcode"})
        assert bus.flush()
        assert specific == ["a.gcode", "b.gcode"]
        assert everything == ["PrintStarted", "PrintDone", "PrintStarted"]
    finally:
        bus.close()


def test_fire_does_not_wait_for_a_slow_subscriber():
    bus = EventBus()
    release = threading.Event()
    try:
        bus.subscribe("*", lambda e, p: release.wait(5))
        for _ in range(100):
            bus.fire(Events.Z_CHANGE, {"new": 1})
        assert not release.is_set()  # all 100 fires returned while the subscriber is still blocked
    finally:
        release.set()
        bus.close()


def test_raising_subscriber_does_not_stop_the_others():
    bus = EventBus()
    try:
        got = []
        bus.subscribe("*", lambda e, p: 1 / 0)
        bus.subscribe("*", lambda e, p: got.append(e))
        bus.fire(Events.CONNECTED, {"port": "VIRTUAL"})
        bus.flush()
        assert got == ["Connected"]
    finally:
        bus.close()


def test_custom_events_from_the_hook_are_prefixed_with_the_plugin_id(tmp_path):
    pm = PluginManager()
    pm.register_module("myplugin", types.SimpleNamespace(
        __plugin_hooks__={"octoprint.events.register_custom_events": lambda *a, **k: ["my_event", "other"]}))
    bus = EventBus(plugin_manager=pm)
    try:
        assert bus.custom_events == ["plugin_myplugin_my_event", "plugin_myplugin_other"]
    finally:
        bus.close()
