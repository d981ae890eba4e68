import os

import pytest
import yaml

from octohost.events import EventBus
from octohost.printer.profiles import (
    DEFAULT_ID,
    CouldNotOverwriteError,
    CouldNotRemoveError,
    InvalidProfileError,
    PrinterProfileManager,
    SaveError,
)
from octohost.settings import Settings


@pytest.fixture
def settings(tmp_path):
    return Settings(str(tmp_path))


@pytest.fixture
def manager(settings):
    return PrinterProfileManager(settings)


def profile_path(settings, identifier):
    return os.path.join(settings.folder("printerProfiles"), identifier + ".profile")


def test_default_profile_exists_without_any_file(manager):
    assert list(manager.get_all()) == [DEFAULT_ID]
    default = manager.get_default()
    assert default["id"] == DEFAULT_ID
    assert default["extruder"]["count"] == 1
    assert default["volume"]["custom_box"] is False
    assert manager.get_current() is None
    assert manager.get_current_or_default()["id"] == DEFAULT_ID


def test_save_fills_missing_fields_and_writes_yaml(manager, settings):
    saved = manager.save({"id": "mk3", "name": "MK3", "extruder": {"count": 2}, "heatedChamber": True})
    assert saved["axes"]["x"]["speed"] == 6000
    assert saved["extruder"]["offsets"] == [(0.0, 0.0), (0.0, 0.0)]
    with open(profile_path(settings, "mk3")) as f:
        on_disk = yaml.safe_load(f)
    assert on_disk["heatedChamber"] is True
    assert manager.get("mk3") == saved
    assert sorted(manager.get_all()) == [DEFAULT_ID, "mk3"]


def test_id_is_derived_from_name(manager):
    assert manager.save({"name": "Big Delta 3000"})["id"] == "big_delta_3000"


@pytest.mark.parametrize("profile, field", [
    ({"id": "a", "volume": {"width": -5}}, "volume.width"),
    ({"id": "a", "volume": {"formFactor": "triangle"}}, "volume.formFactor"),
    ({"id": "a", "volume": {"origin": "upperright"}}, "volume.origin"),
    ({"id": "a", "volume": {"custom_box": {"x_min": 0, "y_min": 0, "z_min": 0, "x_max": -1, "y_max": 1, "z_max": 1}}},
     "volume.custom_box.x_max"),
    ({"id": "a", "volume": {"custom_box": {"x_min": 0}}}, "volume.custom_box.y_min"),
    ({"id": "a", "heatedBed": "yes"}, "heatedBed"),
    ({"id": "a", "extruder": {"count": 0}}, "extruder.count"),
    ({"id": "a", "extruder": {"count": 1.5}}, "extruder.count"),
    ({"id": "a", "extruder": {"offsets": [[0, 0], ["a", 1]]}}, "extruder.offsets.1"),
    ({"id": "a", "extruder": {"nozzleDiameter": 0}}, "extruder.nozzleDiameter"),
    ({"id": "a", "axes": {"z": {"speed": "fast"}}}, "axes.z.speed"),
    ({"id": "a", "axes": {"x": {"speed": float("inf")}}}, "axes.x.speed"),
    ({"id": "a", "volume": {"height": float("nan")}}, "volume.height"),
    ({"id": "a", "axes": {"e": {"inverted": 1}}}, "axes.e.inverted"),
    ({"id": "a", "axes": {"q": {"speed": 1}}}, "axes.q"),
    ({"id": "a", "name": ""}, "name"),
    ({"id": "../evil", "name": "x"}, "id"),
    ({"id": "a", "bogus": 1}, "bogus"),
])
def test_invalid_field_is_named_and_nothing_written(manager, settings, profile, field):
    with pytest.raises(InvalidProfileError) as info:
        manager.save(profile)
    assert info.value.field == field
    assert field in str(info.value)
    assert os.listdir(settings.folder("printerProfiles")) == []


def test_invalid_update_leaves_file_untouched(manager, settings):
    manager.save({"id": "mk3", "name": "MK3"})
    before = open(profile_path(settings, "mk3"), "rb").read()
    with pytest.raises(InvalidProfileError):
        manager.update("mk3", {"axes": {"x": {"speed": -1}}})
    assert open(profile_path(settings, "mk3"), "rb").read() == before


def test_overwrite_needs_permission(manager):
    manager.save({"id": "mk3", "name": "MK3"})
    with pytest.raises(CouldNotOverwriteError):
        manager.save({"id": "mk3", "name": "Other"})
    assert manager.save({"id": "mk3", "name": "Other"}, allow_overwrite=True)["name"] == "Other"


def test_update_deep_merges(manager):
    manager.save({"id": "mk3", "name": "MK3", "axes": {"x": {"speed": 1000, "inverted": True}}})
    updated = manager.update("mk3", {"axes": {"x": {"speed": 2000}}, "current": True})
    assert updated["axes"]["x"] == {"speed": 2000, "inverted": True}
    assert manager.get("mk3")["axes"]["x"]["speed"] == 2000
    with pytest.raises(InvalidProfileError):
        manager.update("mk3", {"id": "other"})


def test_default_and_current_cannot_be_removed(manager, settings):
    manager.save({"id": "mk3", "name": "MK3"}, make_default=True)
    manager.save({"id": "spare", "name": "Spare"})
    assert settings.get("printerProfiles.default") == "mk3"
    assert manager.get_default()["id"] == "mk3"
    with pytest.raises(CouldNotRemoveError):
        manager.remove("mk3")
    with pytest.raises(CouldNotRemoveError):
        manager.remove(DEFAULT_ID)
    assert manager.select("spare")
    with pytest.raises(CouldNotRemoveError):
        manager.remove("spare")
    manager.deselect()
    assert manager.remove("spare") is True
    assert manager.remove("spare") is False
    assert manager.get("spare") is None


def test_select_unknown_profile_fails(manager):
    assert manager.select("nope") is False
    assert manager.get_current() is None


def test_broken_file_on_disk_is_skipped(manager, settings):
    with open(profile_path(settings, "broken"), "w") as f:
        f.write("extruder: {count: -3}\n")
    assert "broken" not in manager.get_all()
    assert manager.get("broken") is None


def test_save_is_atomic_when_write_fails(manager, settings, monkeypatch):
    manager.save({"id": "mk3", "name": "MK3"})
    before = open(profile_path(settings, "mk3"), "rb").read()

    def explode(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", explode)
    with pytest.raises(SaveError):
        manager.save({"id": "mk3", "name": "Changed"}, allow_overwrite=True)
    monkeypatch.undo()
    assert open(profile_path(settings, "mk3"), "rb").read() == before
    assert sorted(os.listdir(settings.folder("printerProfiles"))) == ["mk3.profile"]


def test_circular_bed_has_equal_depth(manager):
    saved = manager.save({"id": "delta", "name": "Delta",
                          "volume": {"formFactor": "circular", "width": 150, "depth": 10}})
    assert saved["volume"]["depth"] == 150


def test_events_fired(settings):
    bus = EventBus()
    seen = []
    bus.subscribe("*", lambda event, payload: seen.append((event, payload["identifier"])))
    try:
        manager = PrinterProfileManager(settings, event_bus=bus)
        manager.save({"id": "mk3", "name": "MK3"})
        manager.update("mk3", {"name": "MK3S"})
        manager.remove("mk3")
        bus.flush()
    finally:
        bus.close()
    assert seen == [("PrinterProfileAdded", "mk3"), ("PrinterProfileModified", "mk3"), ("PrinterProfileDeleted", "mk3")]
