"""Loading, validating and atomically saving ``config.yaml``.

The file holds only what differs from the defaults in :mod:`octohost.settings.schema`.
Anything wrong in it (syntax, unknown key, wrong type) raises :class:`SettingsError` naming the
file, the key and what was expected; the file itself is never touched on error.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias, cast

import yaml

from octohost.util.fs import atomic_write
from octohost.util.limits import MAX_NUMBER, number_in_range
from octohost.util.merge import merge_into
from octohost.util.shared_file import SharedFile

from . import schema
from .migrate import CURRENT as CURRENT_VERSION
from .migrate import VERSION_KEY, MigrationError, migrate_settings_file

#: a setting's key: dotted (``"serial.port"``) or already split (``("serial", "port")``)
Key: TypeAlias = str | Sequence[str]
#: ``callback(key, value)`` after a setting changed
Listener: TypeAlias = Callable[[str, Any], None]


class SettingsError(ValueError):
    """config.yaml or a value given for a setting is invalid."""


def default_basedir() -> str:
    return os.environ.get("OCTOHOST_BASEDIR") or os.path.join(os.path.expanduser("~"), ".octohost")


def _split(key: Key) -> tuple[str, ...]:
    if isinstance(key, (list, tuple)):
        return tuple(key)
    if not key or not isinstance(key, str):
        raise SettingsError(f"invalid setting key {key!r}")
    return tuple(key.split("."))


def check_value(path: tuple[str, ...], value: Any, where: str = "value") -> Any:
    """Validate ``value`` for the setting at ``path``; returns it (ints widened for floats)."""
    key = ".".join(path)
    if schema.open_prefix(path):
        return value
    try:
        node = schema.lookup(path)
    except KeyError as exc:
        raise SettingsError(f"{where}: unknown setting {key!r} ({exc.args[0]!r} is not a section)") from None
    if node is None:
        raise SettingsError(f"{where}: unknown setting {key!r}")
    if isinstance(node, schema.Section):
        if not isinstance(value, dict):
            raise SettingsError(f"{where}: {key!r} is a section and expects a mapping, got {type(value).__name__}")
        return {k: check_value(path + (k,), v, where) for k, v in value.items()}
    if value is None:
        if node.nullable:
            return None
        raise SettingsError(f"{where}: {key!r} expects {node.describe()}, got null")
    if isinstance(value, bool) and bool not in node.types:
        raise SettingsError(f"{where}: {key!r} expects {node.describe()}, got {value!r}")
    if not isinstance(value, node.types):
        raise SettingsError(f"{where}: {key!r} expects {node.describe()}, got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not number_in_range(value):
        raise SettingsError(f"{where}: {key!r} expects a number of at most {MAX_NUMBER} in magnitude, "
                            f"got {value!r:.40}")
    if (node.minimum is not None and node.maximum is not None and isinstance(value, (int, float))
            and not node.minimum <= value <= node.maximum):  # ranges are declared for numeric settings
        raise SettingsError(f"{where}: {key!r} expects {node.describe()}, got {value!r}")
    if node.choices is not None and value not in node.choices:
        raise SettingsError(f"{where}: {key!r} expects {node.describe()}, got {value!r}")
    if node.item_type is not None:
        for item in cast(list[Any], value):  # item_type is declared for list settings only
            if (not isinstance(item, node.item_type) or (isinstance(item, bool) and node.item_type is not bool)
                    or (isinstance(item, (int, float)) and not isinstance(item, bool) and not number_in_range(item))):
                raise SettingsError(f"{where}: {key!r} expects {node.describe()}, got item {item!r}")
    if float in node.types and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _leaves(tree: dict[str, Any], prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    """{dotted path: value} of every non-mapping value in a settings tree."""
    out: dict[tuple[str, ...], Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            out.update(_leaves(value, prefix + (key,)))
        else:
            out[prefix + (key,)] = value
    return out


class Settings:
    """Dotted, typed access to the effective settings, backed by ``config.yaml`` in the base folder."""

    def __init__(self, basedir: str | os.PathLike[str] | None = None,
                 config_path: str | os.PathLike[str] | None = None) -> None:
        self.basedir = os.path.abspath(basedir or default_basedir())
        os.makedirs(self.basedir, exist_ok=True)
        self.config_path = os.path.abspath(config_path) if config_path else os.path.join(self.basedir, "config.yaml")
        self._lock = threading.RLock()
        self._listeners: list[tuple[str, Listener]] = []
        # The command line writes config.yaml while the daemon runs: writes hold the file's lock
        # and start from the file as it is then (see octohost/util/shared_file.py).
        self._file = SharedFile(self.config_path)
        self._refused: tuple[int, int, int] | None = None  # a broken version of the file, warned about
        try:
            migrate_settings_file(self.config_path, os.path.join(self.basedir, "users.yaml"))
        except MigrationError as exc:
            raise SettingsError(str(exc)) from None
        stamp = self._file.stamp()
        self._user = self._load()
        self._effective: dict[str, Any] | None = None  # defaults merged with _user, built on first read
        self._file.remember(stamp)

    def _load(self) -> dict[str, Any]:
        if not os.path.exists(self.config_path):
            return {}
        try:
            with open(self.config_path, encoding="utf-8") as f:
                data = yaml.safe_load(f)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise SettingsError(f"{self.config_path}: YAML syntax error{where}: {problem}") from None
        except OSError as exc:
            raise SettingsError(f"{self.config_path}: cannot read: {exc.strerror}") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise SettingsError(f"{self.config_path}: expected a mapping at the top level, got {type(data).__name__}")
        data.pop(VERSION_KEY, None)  # the format version: migrate.py's, written back by _write
        return self._check_tree(data)

    def _check_tree(self, data: dict[Any, Any], prefix: tuple[str, ...] = ()) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in data.items():
            path = prefix + (str(k),)
            node = None if schema.open_prefix(path) else schema.lookup(path)
            if isinstance(node, schema.Section) and isinstance(v, dict):
                out[str(k)] = self._check_tree(v, path)
            else:
                out[str(k)] = check_value(path, v, where=self.config_path)
        return out

    @property
    def config_version(self) -> int:
        """The base folder format this octohost writes (see :mod:`.migrate`)."""
        return CURRENT_VERSION

    # -- reading -------------------------------------------------------------------------------

    def get(self, key: Key) -> Any:
        """Effective value of a dotted key (a copy for lists and dicts).

        Reads walk a merged tree kept until the next change: views call this on every request,
        and rebuilding the tree from the schema each time cost hundreds of microseconds of the
        interpreter lock the serial loops need.
        """
        path = _split(key)
        with self._lock:
            node: Any = self._merged()
            for name in path:
                if not isinstance(node, dict) or name not in node:
                    if schema.open_prefix(path):
                        return None
                    raise SettingsError(f"unknown setting {'.'.join(path)!r}")
                node = node[name]
            return copy.deepcopy(node) if isinstance(node, (dict, list)) else node

    def get_int(self, key: Key) -> int:
        return int(self.get(key))

    def get_float(self, key: Key) -> float:
        return float(self.get(key))

    def get_bool(self, key: Key) -> bool:
        return bool(self.get(key))

    def effective(self) -> dict[str, Any]:
        """Defaults merged with the user's values, as a fresh nested dict."""
        with self._lock:
            return copy.deepcopy(self._merged())

    def _merged(self) -> dict[str, Any]:
        """The kept effective tree (callers hold the lock and never hand it out)."""
        if self._effective is None:
            self._effective = merge_into(schema.defaults(), self._user)  # defaults() is a fresh copy
        return self._effective

    def user_values(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._user)

    # -- writing -------------------------------------------------------------------------------

    def set(self, key: Key, value: Any, save: bool = True) -> Any:
        """Validate and set a dotted key; values equal to the default are dropped from the file.

        With ``save`` this is :meth:`update` of one key: written first, so a failed write changes
        nothing. Without it the value applies at once and a later :meth:`save` writes it."""
        if save:
            return self.update([(key, value)])[0]
        path = _split(key)
        value = check_value(path, value, where="setting")
        with self._lock:
            self._put(self._user, path, value)
            self._effective = None
        self._notify(".".join(path), value)
        return value

    def update(self, changes: Iterable[tuple[Key, Any]]) -> list[Any]:
        """Set several ``(key, value)`` pairs all or nothing: validated, written to the file, then
        applied and announced. A failed write (disk full, ...) raises OSError and leaves the
        settings as they were, equal to the file. Returns the stored values."""
        checked: list[tuple[tuple[str, ...], Any]] = []
        for key, value in changes:
            path = _split(key)
            checked.append((path, check_value(path, value, where="setting")))
        with self._lock, self._file.locked():
            adopted = self._adopt_file()
            draft = copy.deepcopy(self._user)
            for path, value in checked:
                self._put(draft, path, value)
            self._write(draft)
            self._user = draft
            self._effective = None
        self._notify_adopted(adopted)
        for path, value in checked:
            self._notify(".".join(path), value)
        return [value for _, value in checked]

    def _put(self, tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
        node = schema.lookup(path) if not schema.open_prefix(path) else None
        is_default = isinstance(node, schema.Setting) and node.default == value
        target: Any = tree
        for name in path[:-1]:
            target = target.setdefault(name, {})
            if not isinstance(target, dict):
                raise SettingsError(f"cannot set {'.'.join(path)!r}: {name!r} is not a section")
        if is_default:
            target.pop(path[-1], None)
            self._prune(tree)
        else:
            target[path[-1]] = copy.deepcopy(value)

    def remove(self, key: Key, save: bool = True) -> None:
        """Drop a user value so the default applies again (with ``save``: only once written)."""
        path = _split(key)
        adopted: list[tuple[str, ...]] = []
        with self._lock, self._file.locked():
            if save:
                adopted = self._adopt_file()
            tree = copy.deepcopy(self._user) if save else self._user
            target: Any = tree
            found = True
            for name in path[:-1]:
                target = target.get(name)
                if not isinstance(target, dict):
                    found = False
                    break
            if found:
                target.pop(path[-1], None)
                self._prune(tree)
                if save:
                    self._write(tree)
                    self._user = tree
            self._effective = None
        self._notify_adopted(adopted)
        if found:
            self._notify(".".join(path), self.get(path) if not schema.open_prefix(path) else None)

    def _prune(self, tree: dict[str, Any]) -> None:
        for k in list(tree):
            if isinstance(tree[k], dict):
                self._prune(tree[k])
                if not tree[k] and not schema.open_prefix((k,)):
                    del tree[k]

    def save(self) -> None:
        """Write the values in memory (those set with ``save=False`` included) as they are."""
        with self._lock, self._file.locked():
            self._write(self._user)

    def _adopt_file(self) -> list[tuple[str, ...]]:
        """Under the file lock: start from config.yaml as another process (``octohost config``)
        may have left it, so its change is kept; returns the keys that changed. A file that no
        longer parses raises SettingsError and is not overwritten."""
        if not self._file.changed():
            return []
        stamp = self._file.stamp()
        before = _leaves(self._user)
        self._user = self._load()
        self._effective = None
        self._file.remember(stamp)
        after = _leaves(self._user)
        return sorted(path for path in before.keys() | after.keys() if before.get(path) != after.get(path))

    def refresh(self) -> list[str]:
        """Adopt config.yaml if another process (``octohost config set``) changed it, and announce
        the changed keys as if set here; returns them. One ``stat`` when nothing changed: the
        daemon calls this every few seconds, so a setting changed from the shell applies without
        waiting for the daemon's own next write."""
        if not self._file.changed():
            return []
        with self._lock, self._file.locked():
            stamp = self._file.stamp()
            if stamp == self._refused:
                return []
            try:
                adopted = self._adopt_file()
            except SettingsError as exc:
                # warned once per broken version; it stays unadopted, so the next write refuses
                # to replace it (409 from the API) rather than overwrite what the person wrote
                import logging

                logging.getLogger(__name__).warning("keeping the settings in memory: %s", exc)
                self._refused = stamp
                return []
        self._notify_adopted(adopted)
        return [".".join(path) for path in adopted]

    def _notify_adopted(self, paths: list[tuple[str, ...]]) -> None:
        """Announce values another process changed, as if set here (outside the lock)."""
        for path in paths:
            try:
                value = self.get(path)
            except SettingsError:  # a section replaced by a value or the like: nothing to announce
                continue
            self._notify(".".join(path), value)

    def _write(self, tree: dict[str, Any]) -> None:
        text = yaml.safe_dump({VERSION_KEY: CURRENT_VERSION, **tree}, default_flow_style=False, sort_keys=True,
                              allow_unicode=True)
        atomic_write(self.config_path, text, mode=0o600)
        self._file.remember(self._file.stamp())

    # -- change notification (for settings that apply while running) ---------------------------

    def subscribe(self, prefix: str, callback: Listener) -> None:
        """Call ``callback(key, value)`` after any key starting with ``prefix`` changes."""
        self._listeners.append((prefix, callback))

    def _notify(self, key: str, value: Any) -> None:
        for prefix, callback in list(self._listeners):
            if key == prefix or key.startswith(prefix + ".") or prefix.startswith(key + "."):
                try:
                    callback(key, value)
                except Exception:
                    import logging

                    logging.getLogger(__name__).exception("settings listener for %s failed", prefix)

    # -- folders -------------------------------------------------------------------------------

    def folder(self, name: str) -> str:
        """Absolute path of a configured folder (``folder.<name>``), created if missing."""
        path = self.get(("folder", name))
        if not os.path.isabs(path):
            path = os.path.join(self.basedir, path)
        os.makedirs(path, exist_ok=True)
        return path
