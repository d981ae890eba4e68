"""``octoprint.settings``: ``settings()``, the global settings with OctoPrint's path-list methods."""


class NoSuchSettingsPath(Exception):
    pass


def _key(path):
    return ".".join(str(p) for p in path) if isinstance(path, (list, tuple)) else str(path)


class GlobalSettings:
    """OctoPrint's ``Settings`` methods over octohost's store (paths are lists or dotted strings)."""

    def __init__(self, store):
        self._store = store

    def get(self, path, **kwargs):
        try:
            return self._store.get(_key(path))
        except Exception:
            return kwargs.get("default")

    def getInt(self, path, **kwargs):
        return _convert(self.get(path, **kwargs), int)

    def getFloat(self, path, **kwargs):
        return _convert(self.get(path, **kwargs), float)

    def getBoolean(self, path, **kwargs):
        value = self.get(path, **kwargs)
        if isinstance(value, str):
            return value.lower() in ("true", "yes", "y", "1", "on")
        return bool(value) if value is not None else None

    def set(self, path, value, **kwargs):
        self._store.set(_key(path), value)

    def setInt(self, path, value, **kwargs):
        self.set(path, _convert(value, int))

    def setFloat(self, path, value, **kwargs):
        self.set(path, _convert(value, float))

    def setBoolean(self, path, value, **kwargs):
        self.set(path, bool(value))

    def remove(self, path, **kwargs):
        self._store.remove(_key(path))

    def has(self, path, **kwargs):
        return self.get(path) is not None

    def getBaseFolder(self, name, **kwargs):
        return self._store.folder(name)

    def save(self, *args, **kwargs):
        """Every ``set`` is already written (atomically) by octohost's store."""
        return True


def _convert(value, kind):
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def settings(init=False, **kwargs):
    from octohost.compat import layer

    store = layer.current_component("settings")
    if store is None:
        raise RuntimeError("settings are not loaded yet")
    return GlobalSettings(store)
