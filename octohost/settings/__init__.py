"""Settings: defaults in code (:mod:`.schema`), user overrides in ``config.yaml``."""

from .schema import SCHEMA, Section, Setting, defaults
from .store import Settings, SettingsError, check_value, default_basedir

__all__ = ["SCHEMA", "Section", "Setting", "Settings", "SettingsError", "check_value", "default_basedir", "defaults"]
