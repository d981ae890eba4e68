import pytest

from octohost.files import FileManager


@pytest.fixture
def recorded_events(event_bus):
    """Events as (name, payload), read after ``event_bus.flush()``."""
    seen = []
    event_bus.subscribe("*", lambda event, payload: seen.append((event, payload)))
    return seen


@pytest.fixture
def make_manager(settings, event_bus):
    managers = []

    def make(**kwargs):
        kwargs.setdefault("event_bus", event_bus)
        manager = FileManager(settings, **kwargs)
        managers.append(manager)
        return manager

    yield make
    for manager in managers:
        manager.shutdown()


@pytest.fixture
def manager(make_manager):
    return make_manager()


@pytest.fixture
def quiet_manager(settings, event_bus):
    """A manager without background analysis, for pure storage tests."""
    settings.set("files.analysis.enabled", False)
    manager = FileManager(settings, event_bus=event_bus)
    yield manager
    manager.shutdown()
