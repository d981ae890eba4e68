"""The slice of the settings a plugin sees: ``plugins.<identifier>.*``."""


class PluginSettings:
    def __init__(self, settings, identifier, defaults=None):
        self._settings = settings
        self._identifier = identifier
        self._defaults = defaults or {}

    def _key(self, key):
        if isinstance(key, (list, tuple)):
            key = ".".join(key)
        return f"plugins.{self._identifier}.{key}"

    def get(self, key, default=None):
        value = self._settings.get(self._key(key))
        if value is None:
            node = self._defaults
            for part in (key if isinstance(key, (list, tuple)) else key.split(".")):
                node = node.get(part) if isinstance(node, dict) else None
            return default if node is None else node
        return value

    def set(self, key, value):
        self._settings.set(self._key(key), value)

    @property
    def global_settings(self):
        return self._settings
