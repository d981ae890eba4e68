"""The slice of the settings a plugin sees: ``plugins.<identifier>.*``."""

from __future__ import annotations

from typing import Any


class PluginSettings:
    def __init__(self, settings: Any, identifier: str, defaults: dict[str, Any] | None = None) -> None:
        self._settings = settings
        self._identifier = identifier
        self._defaults = defaults or {}

    def _key(self, key):
        if isinstance(key, (list, tuple)):
            key = ".".join(key)
        return f"plugins.{self._identifier}.{key}"

    def get(self, key: str | list[str] | tuple[str, ...], default: Any = None) -> Any:
        value = self._settings.get(self._key(key))
        if value is None:
            node: Any = self._defaults
            for part in (key if isinstance(key, (list, tuple)) else key.split(".")):
                node = node.get(part) if isinstance(node, dict) else None
            return default if node is None else node
        return value

    def set(self, key: str | list[str] | tuple[str, ...], value: Any) -> None:
        self._settings.set(self._key(key), value)

    @property
    def global_settings(self) -> Any:
        return self._settings
