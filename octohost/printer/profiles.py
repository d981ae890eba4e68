"""Printer profiles: one YAML file per profile in ``BASEDIR/printerProfiles/``.

A profile describes the machine (volume, heaters, extruders, axis speeds and directions) and
governs what the printer layer accepts. Every profile is the built-in default deep-merged with
what its file says, then validated; anything wrong raises :class:`InvalidProfileError` naming the
field, before any file is touched. ``_default`` always exists, even without a file.
"""

import copy
import logging
import math
import os
import re
import threading

import yaml

from octohost.util.fs import atomic_write
from octohost.util.merge import deep_merge  # also imported from here by the server API and tests
from octohost.util.shared_file import SharedFile

log = logging.getLogger(__name__)

PROFILE_EXTENSION = ".profile"
DEFAULT_ID = "_default"
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
#: keys the REST API adds to profiles it returns; ignored when a client sends them back
_OUTPUT_ONLY_KEYS = ("current", "default", "resource")


class BedFormFactor:
    RECTANGULAR = "rectangular"
    CIRCULAR = "circular"

    @classmethod
    def values(cls):
        return (cls.RECTANGULAR, cls.CIRCULAR)


class BedOrigin:
    LOWERLEFT = "lowerleft"
    CENTER = "center"

    @classmethod
    def values(cls):
        return (cls.LOWERLEFT, cls.CENTER)


class PrinterProfileError(Exception):
    """Base of every profile error."""


class InvalidProfileError(PrinterProfileError, ValueError):
    """The profile has a bad field; ``field`` names it (dotted)."""

    def __init__(self, field, problem):
        super().__init__(f"invalid printer profile field {field!r}: {problem}")
        self.field = field
        self.problem = problem


class SaveError(PrinterProfileError):
    """Saving a profile failed."""


class CouldNotOverwriteError(SaveError):
    """A profile with that id exists and overwriting was not allowed."""


class CouldNotRemoveError(PrinterProfileError):
    """The profile is the default or the current one and must stay."""


DEFAULT_PROFILE = {
    "id": DEFAULT_ID,
    "name": "Default",
    "model": "Generic RepRap Printer",
    "color": "default",
    "volume": {
        "width": 200.0,
        "depth": 200.0,
        "height": 200.0,
        "formFactor": BedFormFactor.RECTANGULAR,
        "origin": BedOrigin.LOWERLEFT,
        "custom_box": False,
    },
    "heatedBed": True,
    "heatedChamber": False,
    "extruder": {
        "count": 1,
        "offsets": [(0.0, 0.0)],
        "nozzleDiameter": 0.4,
        "sharedNozzle": False,
        "defaultExtrusionLength": 5,
    },
    "axes": {
        "x": {"speed": 6000, "inverted": False},
        "y": {"speed": 6000, "inverted": False},
        "z": {"speed": 200, "inverted": False},
        "e": {"speed": 300, "inverted": False},
    },
}

_MAX_EXTRUDERS = 16
_CUSTOM_BOX_KEYS = ("x_min", "y_min", "z_min", "x_max", "y_max", "z_max")


def _positive_number(profile, field):
    node = profile
    parts = field.split(".")
    for part in parts[:-1]:
        node = node[part]
    value = node[parts[-1]]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidProfileError(field, f"expected a number, got {value!r}")
    if value <= 0:
        raise InvalidProfileError(field, f"must be greater than 0, got {value!r}")
    return value


def _boolean(node, key, field):
    if not isinstance(node.get(key), bool):
        raise InvalidProfileError(field, f"expected true or false, got {node.get(key)!r}")


def _string(node, key, field, allow_empty=True):
    value = node.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise InvalidProfileError(field, f"expected a {'non-empty ' if not allow_empty else ''}string, got {value!r}")


def _check_known_keys(given, template, prefix=""):
    for key, value in given.items():
        field = prefix + str(key)
        if key not in template:
            raise InvalidProfileError(field, "unknown field")
        if isinstance(template[key], dict) and isinstance(value, dict) and key != "custom_box":
            _check_known_keys(value, template[key], field + ".")


def validate_profile(profile):
    """Merge ``profile`` over the defaults and validate it; returns the complete, normalised profile."""
    if not isinstance(profile, dict):
        raise InvalidProfileError("(profile)", f"expected a mapping, got {type(profile).__name__}")
    given = {k: v for k, v in profile.items() if k not in _OUTPUT_ONLY_KEYS}
    _check_known_keys(given, DEFAULT_PROFILE)
    for section in ("volume", "extruder", "axes"):
        if section in given and not isinstance(given[section], dict):
            raise InvalidProfileError(section, f"expected a mapping, got {given[section]!r}")
    for axis in "xyze":
        if axis in given.get("axes", {}) and not isinstance(given["axes"][axis], dict):
            raise InvalidProfileError(f"axes.{axis}", f"expected a mapping, got {given['axes'][axis]!r}")
    result = deep_merge(DEFAULT_PROFILE, given)

    identifier = result.get("id")
    if not isinstance(identifier, str) or not _ID_PATTERN.match(identifier):
        raise InvalidProfileError("id", "expected letters, digits, '_', '.' or '-' (not starting with '.' or '-'), "
                                        f"got {identifier!r}")
    _string(result, "name", "name", allow_empty=False)
    for key in ("model", "color"):
        _string(result, key, key)

    volume = result["volume"]
    for key in ("width", "depth", "height"):
        _positive_number(result, f"volume.{key}")
    if volume["formFactor"] not in BedFormFactor.values():
        raise InvalidProfileError("volume.formFactor",
                                  f"expected one of {', '.join(BedFormFactor.values())}, got {volume['formFactor']!r}")
    if volume["origin"] not in BedOrigin.values():
        raise InvalidProfileError("volume.origin",
                                  f"expected one of {', '.join(BedOrigin.values())}, got {volume['origin']!r}")
    if volume["formFactor"] == BedFormFactor.CIRCULAR:
        volume["depth"] = volume["width"]
    _validate_custom_box(volume)

    _boolean(result, "heatedBed", "heatedBed")
    _boolean(result, "heatedChamber", "heatedChamber")

    extruder = result["extruder"]
    count = extruder["count"]
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= _MAX_EXTRUDERS:
        raise InvalidProfileError("extruder.count", f"expected an integer from 1 to {_MAX_EXTRUDERS}, got {count!r}")
    extruder["offsets"] = _validate_offsets(extruder["offsets"], count)
    _positive_number(result, "extruder.nozzleDiameter")
    _boolean(extruder, "sharedNozzle", "extruder.sharedNozzle")
    _positive_number(result, "extruder.defaultExtrusionLength")

    for axis in "xyze":
        _positive_number(result, f"axes.{axis}.speed")
        _boolean(result["axes"][axis], "inverted", f"axes.{axis}.inverted")
    return result


def _validate_custom_box(volume):
    box = volume["custom_box"]
    if box is False or box is None:
        volume["custom_box"] = False
        return
    if not isinstance(box, dict):
        raise InvalidProfileError("volume.custom_box", f"expected false or a mapping, got {box!r}")
    unknown = set(box) - set(_CUSTOM_BOX_KEYS)
    if unknown:
        raise InvalidProfileError(f"volume.custom_box.{sorted(unknown)[0]}", "unknown field")
    for key in _CUSTOM_BOX_KEYS:
        value = box.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidProfileError(f"volume.custom_box.{key}", f"expected a number, got {value!r}")
        box[key] = float(value)
    for axis in "xyz":
        if box[f"{axis}_min"] >= box[f"{axis}_max"]:
            raise InvalidProfileError(f"volume.custom_box.{axis}_max", f"must be greater than {axis}_min")


def _validate_offsets(offsets, count):
    if not isinstance(offsets, (list, tuple)):
        raise InvalidProfileError("extruder.offsets", f"expected a list of [x, y] pairs, got {offsets!r}")
    result = []
    for index, pair in enumerate(offsets):
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                or any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in pair)):
            raise InvalidProfileError(f"extruder.offsets.{index}", f"expected an [x, y] pair of numbers, got {pair!r}")
        result.append((float(pair[0]), float(pair[1])))
    result = result[:count]
    while len(result) < count:
        result.append((0.0, 0.0))
    result[0] = (0.0, 0.0)
    return result


def _to_yaml(profile):
    data = copy.deepcopy(profile)
    data["extruder"]["offsets"] = [list(pair) for pair in data["extruder"]["offsets"]]
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=True, allow_unicode=True)


def slug(name):
    """A profile id derived from a human-readable name."""
    text = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("_.-").lower()
    return text or "profile"


class PrinterProfileManager:
    """List, load, validate, save, select and remove printer profiles."""

    def __init__(self, settings, event_bus=None):
        self._settings = settings
        self._event_bus = event_bus
        self._folder = settings.folder("printerProfiles")
        self._lock = threading.RLock()
        # ``octohost profiles`` changes the same folder from another process: every change holds
        # this cross-process lock and reads the profile as it is on disk then (no lost update).
        self._shared = SharedFile(self._folder)  # its lock: printerProfiles.lock beside the folder
        self._current_id = None

    # -- reading -------------------------------------------------------------------------------

    def _path(self, identifier):
        if not isinstance(identifier, str) or not _ID_PATTERN.match(identifier):
            raise InvalidProfileError("id", f"invalid profile id {identifier!r}")
        return os.path.join(self._folder, identifier + PROFILE_EXTENSION)

    def _load(self, identifier):
        path = self._path(identifier)
        if not os.path.exists(path):
            return copy.deepcopy(DEFAULT_PROFILE) if identifier == DEFAULT_ID else None
        try:
            with open(path, encoding="utf-8") as f:
                data = yaml.safe_load(f) or {}
            if not isinstance(data, dict):
                raise InvalidProfileError("(profile)", "expected a mapping")
            data["id"] = identifier
            return validate_profile(data)
        except (OSError, yaml.YAMLError, PrinterProfileError) as exc:
            log.warning("ignoring unreadable printer profile %s: %s", path, exc)
            return copy.deepcopy(DEFAULT_PROFILE) if identifier == DEFAULT_ID else None

    def exists(self, identifier):
        try:
            return self._load(identifier) is not None
        except InvalidProfileError:
            return False

    def get(self, identifier):
        """The profile with that id, or None."""
        with self._lock:
            try:
                return self._load(identifier)
            except InvalidProfileError:
                return None

    def get_all(self):
        """{id: profile} of every readable profile, ``_default`` always included."""
        with self._lock:
            ids = {DEFAULT_ID}
            for entry in os.listdir(self._folder):
                if entry.endswith(PROFILE_EXTENSION) and not entry.startswith("."):
                    ids.add(entry[: -len(PROFILE_EXTENSION)])
            profiles = {}
            for identifier in sorted(ids):
                if not _ID_PATTERN.match(identifier):
                    continue
                profile = self._load(identifier)
                if profile is not None:
                    profiles[identifier] = profile
            return profiles

    def get_default_id(self):
        configured = self._settings.get("printerProfiles.default")
        if configured and self.exists(configured):
            return configured
        return DEFAULT_ID

    def get_default(self):
        return self.get(self.get_default_id())

    def get_current(self):
        """The profile selected for the current connection, or None."""
        with self._lock:
            return self.get(self._current_id) if self._current_id else None

    def get_current_or_default(self):
        return self.get_current() or self.get_default()

    # -- selecting -----------------------------------------------------------------------------

    def select(self, identifier):
        """Make ``identifier`` the current profile; False if there is no such profile."""
        with self._lock:
            if identifier is None or not self.exists(identifier):
                return False
            self._current_id = identifier
            return True

    def deselect(self):
        with self._lock:
            self._current_id = None

    def set_default(self, identifier):
        with self._lock:
            if not self.exists(identifier):
                raise PrinterProfileError(f"no printer profile with id {identifier!r}")
            self._settings.set("printerProfiles.default", None if identifier == DEFAULT_ID else identifier)

    # -- writing -------------------------------------------------------------------------------

    def save(self, profile, allow_overwrite=False, make_default=False):
        """Validate and store ``profile`` (missing fields from the defaults); returns the saved profile."""
        if not isinstance(profile, dict):
            raise InvalidProfileError("(profile)", f"expected a mapping, got {type(profile).__name__}")
        profile = dict(profile)
        if not profile.get("id"):
            if not profile.get("name"):
                raise InvalidProfileError("id", "a profile needs an id or a name")
            profile["id"] = slug(profile["name"])
        complete = validate_profile(profile)
        identifier = complete["id"]
        with self._lock, self._shared.locked():
            path = self._path(identifier)
            existed = os.path.exists(path)
            if existed and not allow_overwrite:
                raise CouldNotOverwriteError(f"printer profile {identifier!r} exists and overwriting was not allowed")
            try:
                atomic_write(path, _to_yaml(complete))
            except OSError as exc:
                raise SaveError(f"cannot write printer profile {identifier!r}: {exc.strerror}") from exc
            if make_default:
                self.set_default(identifier)
        self._fire("PrinterProfileModified" if existed else "PrinterProfileAdded", identifier)
        return copy.deepcopy(complete)

    def update(self, identifier, partial):
        """Deep-merge ``partial`` into profile ``identifier`` and save it; returns the result."""
        if not isinstance(partial, dict):
            raise InvalidProfileError("(profile)", f"expected a mapping, got {type(partial).__name__}")
        if partial.get("id") not in (None, identifier):
            raise InvalidProfileError("id", "the id of a profile cannot be changed")
        with self._lock, self._shared.locked():
            current = self.get(identifier)
            if current is None:
                raise PrinterProfileError(f"no printer profile with id {identifier!r}")
            merged = deep_merge(current, {k: v for k, v in partial.items() if k not in _OUTPUT_ONLY_KEYS})
            merged["id"] = identifier
            return self.save(merged, allow_overwrite=True)

    def remove(self, identifier):
        """Delete a profile's file; True if removed, False if there was none.

        The default profile, ``_default`` and the current profile cannot be removed.
        """
        with self._lock, self._shared.locked():
            if identifier == DEFAULT_ID or identifier == self.get_default_id():
                raise CouldNotRemoveError(f"printer profile {identifier!r} is the default and cannot be removed")
            if identifier == self._current_id:
                raise CouldNotRemoveError(f"printer profile {identifier!r} is in use and cannot be removed")
            path = self._path(identifier)
            if not os.path.exists(path):
                return False
            os.unlink(path)
        self._fire("PrinterProfileDeleted", identifier)
        return True

    def _fire(self, event, identifier):
        if self._event_bus is not None:
            self._event_bus.fire(event, {"identifier": identifier})
