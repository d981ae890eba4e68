"""Chart markings kept for the push messages: from events, within the graph's window, bounded."""

from octohost.server.markings import MAX_MARKINGS, Markings


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_events_become_markings_and_old_ones_expire():
    clock = Clock()
    markings = Markings(lambda: 60, clock=clock)
    markings.on_event("Connected", {})
    markings.on_event("ZChange", {})
    clock.now += 30
    markings.on_event("PrintStarted", {"name": "a.gcode"})
    markings.on_event("ChartMarked", {"type": "layer", "label": "Layer 2"})
    assert [(m["type"], m["label"], m["time"]) for m in markings.snapshot()] == [
        ("connected", "Connected", 1000.0), ("print", "Start", 1030.0), ("layer", "Layer 2", 1030.0)]
    clock.now += 45
    assert [m["type"] for m in markings.snapshot()] == ["print", "layer"]


def test_a_flood_of_plugin_markings_stays_bounded():
    markings = Markings(lambda: 3600, clock=Clock())
    for index in range(MAX_MARKINGS * 3):
        markings.on_event("ChartMarked", {"type": "x", "label": index})
    listed = markings.snapshot()
    assert len(listed) == MAX_MARKINGS and listed[0]["label"] is None
