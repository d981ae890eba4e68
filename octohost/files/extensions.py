"""The tree of accepted file types: ``{type: {subtype: [extensions]}}``, extended by plugins.

A file's type path is the route from the root to the leaf that lists its extension, e.g.
``["machinecode", "gcode"]`` for ``part.gco``. Plugins add leaves through the
``filemanager.extension_tree`` hook; their dicts are merged in, extension lists appended.
"""

import copy
import logging

from octohost.plugin.handlers import run_handlers

log = logging.getLogger(__name__)

DEFAULT_TREE = {
    "machinecode": {"gcode": ["gcode", "gco", "g", "gc"]},
    "model": {"stl": ["stl"]},
}


def merge_tree(base, addition):
    """Merge ``addition`` into ``base`` (in place): nested dicts merge, extension lists extend."""
    for key, value in addition.items():
        if isinstance(value, dict):
            target = base.get(key)
            if not isinstance(target, dict):
                target = base[key] = {}
            merge_tree(target, value)
        elif isinstance(value, (list, tuple)):
            existing = base.get(key)
            if not isinstance(existing, list):
                existing = base[key] = []
            for ext in value:
                ext = str(ext).lower().lstrip(".")
                if ext and ext not in existing:
                    existing.append(ext)
        else:
            raise TypeError(f"extension tree entry {key!r} must be a dict or a list of extensions")
    return base


class ExtensionTree:
    """The merged tree with a flat extension index for O(1) lookups."""

    def __init__(self, plugin_manager=None):
        self.tree = copy.deepcopy(DEFAULT_TREE)
        if plugin_manager is not None:
            handlers = plugin_manager.handlers("filemanager.extension_tree")
            for _identifier, addition in run_handlers("filemanager.extension_tree", handlers,
                                                      lambda handler: handler()):
                if addition:
                    merge_tree(self.tree, addition)
        self._index = {}
        self._build_index(self.tree, [])

    def _build_index(self, node, prefix):
        for key, value in node.items():
            if isinstance(value, dict):
                self._build_index(value, prefix + [key])
            else:
                for ext in value:
                    self._index.setdefault(ext, prefix + [key])

    def type_path(self, name):
        """``["machinecode", "gcode"]`` for ``x.gcode``; None for an unknown extension."""
        if "." not in name:
            return None
        found = self._index.get(name.rsplit(".", 1)[1].lower())
        return list(found) if found is not None else None

    def is_type(self, name, type=None):
        """True if ``name`` has a known extension anywhere under ``type`` (any type when None)."""
        path = self.type_path(name)
        if path is None:
            return False
        return type is None or type in path

    def extensions(self, type=None):
        """Every extension under ``type`` (or all), sorted."""
        return sorted(ext for ext, path in self._index.items() if type is None or type in path)
