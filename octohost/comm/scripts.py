"""GCODE scripts: the printer's ``script_renderer`` plus the ``comm.protocol.scripts`` hook."""

from __future__ import annotations

import logging
from typing import Any

from .protocol import strip_comment

log = logging.getLogger(__name__)

HOOK = "comm.protocol.scripts"


def _lines(value):
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split("\n")
    return [line for line in (strip_comment(str(item)) for item in value) if line]


def script_lines(comm: Any, name: str, context: dict[str, Any] | None) -> tuple[list[str], set[str]] | None:
    """``(commands, extra tags)`` of script ``name``: hook prefixes, the rendered script, hook postfixes.

    None when neither the renderer nor any hook knows the script.
    """
    prefix: list[str] = []
    postfix: list[str] = []
    variables: dict[str, Any] = {}
    tags: set[str] = set()
    for plugin_id, result in comm.call_hook(HOOK, "gcode", name):
        if result is None:
            continue
        if not isinstance(result, (tuple, list)) or not 2 <= len(result) <= 4:
            log.warning("plugin %s returned %r from the scripts hook; expected (prefix, postfix[, variables[, tags]])",
                        plugin_id, result)
            continue
        prefix += _lines(result[0])
        postfix += _lines(result[1])
        if len(result) > 2 and isinstance(result[2], dict):
            variables.update(result[2])
        if len(result) > 3 and result[3]:
            tags |= set(result[3])
    body = None
    if comm.script_renderer is not None:
        body = comm.script_renderer(name, {**(context or {}), **variables}, comm)
    if body is None and not prefix and not postfix:
        return None
    return prefix + _lines(body) + postfix, tags
