"""Finding plugin modules: bundled ones, setuptools entry points, and the plugins folder.

Every source yields :class:`Candidate` objects; importing one runs the plugin's own code, so it
happens inside :meth:`Candidate.load`, where the manager can catch whatever it raises.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import logging
import os
import pkgutil
import sys
from collections.abc import Callable
from typing import Any

ENTRY_POINT_GROUP = "octohost.plugin"

log = logging.getLogger(__name__)


class Candidate:
    """A plugin that was found but not imported yet."""

    def __init__(self, identifier: str, origin: str, path: str, importer: Callable[[], Any]) -> None:
        self.identifier = identifier
        self.origin = origin  # "bundled", "entry_point" or "folder"
        self.path = path
        self._importer = importer

    def load(self) -> Any:
        return self._importer()

    def __repr__(self):
        return f"Candidate({self.identifier!r}, {self.origin!r}, {self.path!r})"


def bundled_candidates(package: str = "octohost.plugins") -> list[Candidate]:
    try:
        pkg = importlib.import_module(package)
    except ImportError:
        return []
    out = []
    for info in pkgutil.iter_modules(pkg.__path__):
        name = f"{package}.{info.name}"
        out.append(Candidate(info.name, "bundled", os.path.join(pkg.__path__[0], info.name),
                             functools.partial(importlib.import_module, name)))
    return out


def entry_point_candidates(group: str = ENTRY_POINT_GROUP) -> list[Candidate]:
    out = []
    for ep in importlib.metadata.entry_points(group=group):
        dist = getattr(ep, "dist", None)
        path = f"{dist.name if dist else '?'}:{ep.value}"
        out.append(Candidate(ep.name, "entry_point", path, ep.load))
    return out


def folder_candidates(folder: str | None) -> list[Candidate]:
    """Single ``.py`` files and packages (folders with ``__init__.py``) in ``folder``."""
    if not folder or not os.path.isdir(folder):
        return []
    out = []
    for entry in sorted(os.listdir(folder)):
        full = os.path.join(folder, entry)
        if entry.startswith((".", "_")):
            continue
        if entry.endswith(".py") and os.path.isfile(full):
            identifier = entry[:-3]
            out.append(Candidate(identifier, "folder", full, _file_importer(identifier, full)))
        elif os.path.isfile(os.path.join(full, "__init__.py")):
            importer = _file_importer(entry, os.path.join(full, "__init__.py"), package=True)
            out.append(Candidate(entry, "folder", full, importer))
    return out


def _file_importer(identifier, path, package=False):
    def importer():
        module_name = f"octohost_plugin_{identifier}"
        kwargs = {"submodule_search_locations": [os.path.dirname(path)]} if package else {}
        spec = importlib.util.spec_from_file_location(module_name, path, **kwargs)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        return module

    return importer
