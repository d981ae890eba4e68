"""The plugin seam: hook specs, discovery and ordered, isolated hook calls.

Write a plugin natively with ``@octohost.plugin.hookimpl`` functions named after a hook
(``comm_protocol_gcode_queuing``), or OctoPrint-style with ``__plugin_hooks__``.
"""

from .loader import ENTRY_POINT_GROUP
from .manager import PluginInfo, PluginManager, order
from .settings import PluginSettings
from .specs import HookSpecs, canonical_name, hookimpl, hookspec

__all__ = ["ENTRY_POINT_GROUP", "HookSpecs", "PluginInfo", "PluginManager", "PluginSettings",
           "canonical_name", "hookimpl", "hookspec", "order"]
