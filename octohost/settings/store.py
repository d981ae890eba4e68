"""Loading, validating and atomically saving ``config.yaml``.

The file holds only what differs from the defaults in :mod:`octohost.settings.schema`.
Anything wrong in it (syntax, unknown key, wrong type) raises :class:`SettingsError` naming the
file, the key and what was expected; the file itself is never touched on error.
"""

import copy
import os
import threading

import yaml

from octohost.util.fs import atomic_write
from octohost.util.limits import MAX_NUMBER, number_in_range

from . import schema


class SettingsError(ValueError):
    """config.yaml or a value given for a setting is invalid."""


def default_basedir():
    return os.environ.get("OCTOHOST_BASEDIR") or os.path.join(os.path.expanduser("~"), ".octohost")


def _split(key):
    if isinstance(key, (list, tuple)):
        return tuple(key)
    if not key or not isinstance(key, str):
        raise SettingsError(f"invalid setting key {key!r}")
    return tuple(key.split("."))


def check_value(path, value, where="value"):
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
    if node.minimum is not None and not node.minimum <= value <= node.maximum:
        raise SettingsError(f"{where}: {key!r} expects {node.describe()}, got {value!r}")
    if node.choices is not None and value not in node.choices:
        raise SettingsError(f"{where}: {key!r} expects {node.describe()}, got {value!r}")
    if node.item_type is not None:
        for item in value:
            if (not isinstance(item, node.item_type) or (isinstance(item, bool) and node.item_type is not bool)
                    or (isinstance(item, (int, float)) and not isinstance(item, bool) and not number_in_range(item))):
                raise SettingsError(f"{where}: {key!r} expects {node.describe()}, got item {item!r}")
    if float in node.types and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _merge(base, override):
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


class Settings:
    """Dotted, typed access to the effective settings, backed by ``config.yaml`` in the base folder."""

    def __init__(self, basedir=None, config_path=None):
        self.basedir = os.path.abspath(basedir or default_basedir())
        os.makedirs(self.basedir, exist_ok=True)
        self.config_path = os.path.abspath(config_path) if config_path else os.path.join(self.basedir, "config.yaml")
        self._lock = threading.RLock()
        self._listeners = []
        self._user = self._load()

    def _load(self):
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
        return self._check_tree(data)

    def _check_tree(self, data, prefix=()):
        out = {}
        for k, v in data.items():
            path = prefix + (str(k),)
            node = None if schema.open_prefix(path) else schema.lookup(path)
            if isinstance(node, schema.Section) and isinstance(v, dict):
                out[str(k)] = self._check_tree(v, path)
            else:
                out[str(k)] = check_value(path, v, where=self.config_path)
        return out

    # -- reading -------------------------------------------------------------------------------

    def get(self, key):
        """Effective value of a dotted key (a copy for lists and dicts)."""
        path = _split(key)
        with self._lock:
            node = self.effective()
            for name in path:
                if not isinstance(node, dict) or name not in node:
                    if schema.open_prefix(path):
                        return None
                    raise SettingsError(f"unknown setting {'.'.join(path)!r}")
                node = node[name]
            return node

    def get_int(self, key):
        return int(self.get(key))

    def get_float(self, key):
        return float(self.get(key))

    def get_bool(self, key):
        return bool(self.get(key))

    def effective(self):
        """Defaults merged with the user's values, as a fresh nested dict."""
        with self._lock:
            return _merge(schema.defaults(), self._user)

    def user_values(self):
        with self._lock:
            return copy.deepcopy(self._user)

    # -- writing -------------------------------------------------------------------------------

    def set(self, key, value, save=True):
        """Validate and set a dotted key; values equal to the default are dropped from the file.

        With ``save`` this is :meth:`update` of one key: written first, so a failed write changes
        nothing. Without it the value applies at once and a later :meth:`save` writes it."""
        if save:
            return self.update([(key, value)])[0]
        path = _split(key)
        value = check_value(path, value, where="setting")
        with self._lock:
            self._put(self._user, path, value)
        self._notify(".".join(path), value)
        return value

    def update(self, changes):
        """Set several ``(key, value)`` pairs all or nothing: validated, written to the file, then
        applied and announced. A failed write (disk full, ...) raises OSError and leaves the
        settings as they were, equal to the file. Returns the stored values."""
        checked = []
        for key, value in changes:
            path = _split(key)
            checked.append((path, check_value(path, value, where="setting")))
        with self._lock:
            draft = copy.deepcopy(self._user)
            for path, value in checked:
                self._put(draft, path, value)
            self._write(draft)
            self._user = draft
        for path, value in checked:
            self._notify(".".join(path), value)
        return [value for _, value in checked]

    def _put(self, tree, path, value):
        node = schema.lookup(path) if not schema.open_prefix(path) else None
        is_default = isinstance(node, schema.Setting) and node.default == value
        target = tree
        for name in path[:-1]:
            target = target.setdefault(name, {})
            if not isinstance(target, dict):
                raise SettingsError(f"cannot set {'.'.join(path)!r}: {name!r} is not a section")
        if is_default:
            target.pop(path[-1], None)
            self._prune(tree)
        else:
            target[path[-1]] = copy.deepcopy(value)

    def remove(self, key, save=True):
        """Drop a user value so the default applies again (with ``save``: only once written)."""
        path = _split(key)
        with self._lock:
            tree = copy.deepcopy(self._user) if save else self._user
            target = tree
            for name in path[:-1]:
                target = target.get(name)
                if not isinstance(target, dict):
                    return
            target.pop(path[-1], None)
            self._prune(tree)
            if save:
                self._write(tree)
                self._user = tree
        self._notify(".".join(path), self.get(path) if not schema.open_prefix(path) else None)

    def _prune(self, tree):
        for k in list(tree):
            if isinstance(tree[k], dict):
                self._prune(tree[k])
                if not tree[k] and not schema.open_prefix((k,)):
                    del tree[k]

    def save(self):
        with self._lock:
            self._write(self._user)

    def _write(self, tree):
        text = yaml.safe_dump(tree, default_flow_style=False, sort_keys=True, allow_unicode=True)
        atomic_write(self.config_path, text, mode=0o600)

    # -- change notification (for settings that apply while running) ---------------------------

    def subscribe(self, prefix, callback):
        """Call ``callback(key, value)`` after any key starting with ``prefix`` changes."""
        self._listeners.append((prefix, callback))

    def _notify(self, key, value):
        for prefix, callback in list(self._listeners):
            if key == prefix or key.startswith(prefix + ".") or prefix.startswith(key + "."):
                try:
                    callback(key, value)
                except Exception:
                    import logging

                    logging.getLogger(__name__).exception("settings listener for %s failed", prefix)

    # -- folders -------------------------------------------------------------------------------

    def folder(self, name):
        """Absolute path of a configured folder (``folder.<name>``), created if missing."""
        path = self.get(("folder", name))
        if not os.path.isabs(path):
            path = os.path.join(self.basedir, path)
        os.makedirs(path, exist_ok=True)
        return path
