"""``octoprint.events``: the event names (octohost uses OctoPrint's) and the running event bus.

Custom plugin events (``octoprint.events.register_custom_events``) get a constant
``Events.PLUGIN_<ID>_<NAME>`` once the bus knows them (:func:`register_custom_event_constants`).
"""

from octohost.events import Events as _OctohostEvents


class Events(_OctohostEvents):
    pass


def register_custom_event_constants(names):
    """Add ``PLUGIN_<ID>_<NAME>`` for each ``plugin_<id>_<name>`` event."""
    for name in names:
        setattr(Events, name.upper(), name)


class _EventManager:
    """OctoPrint's EventManager methods over octohost's bus."""

    def __init__(self, bus):
        self._bus = bus

    def fire(self, event, payload=None):
        self._bus.fire(event, payload)

    def subscribe(self, event, callback):
        self._bus.subscribe(event, callback)

    def unsubscribe(self, event, callback):
        self._bus.unsubscribe(event, callback)


def eventManager():
    from octohost.compat import layer

    bus = layer.current_component("event_bus")
    if bus is None:
        raise RuntimeError("the event bus is not running yet")
    return _EventManager(bus)
