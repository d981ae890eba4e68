"""Recursive merging of nested dicts: defaults overlaid with what a user or a request changed.

One helper for both layers that need it (settings: the schema's defaults under ``config.yaml``;
printer profiles: the default profile under a saved or partial one).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def merge_into(target: dict[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge ``override`` into ``target`` in place and return ``target``.

    Where both hold a dict under a key, they merge key by key; anything else in ``override``
    replaces the value in ``target`` as a deep copy, so ``target`` never shares state with it.
    """
    for key, value in (override or {}).items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            merge_into(current, value)
        else:
            target[key] = copy.deepcopy(value)
    return target


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    """A new dict: ``base`` with ``override`` merged in recursively; neither argument changes."""
    return merge_into(copy.deepcopy(dict(base)), override)
