"""Calling hook handlers: the one loop that times them, isolates their failures and logs both.

Every place that calls plugin handlers (the plugin manager's ``call``/``call_until``, the comm
layer's phases, received-line, temperature, firmware, script and transport hooks) goes through
:func:`run_handlers`, so a raising handler is always logged with its plugin id and skipped, and a
slow one is always named. Callers that have no handlers skip the call altogether (the serial hot
path tests the cached, empty handler tuple first), so none of this costs anything then.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

log = logging.getLogger(__name__)

Handler = Callable[..., Any]
#: what :meth:`PluginManager.handlers` returns: ordered (plugin identifier, callable) pairs
Handlers = tuple[tuple[str, Handler], ...]


class HandlerSource(Protocol):
    """Where the comm layer gets handlers from: the plugin manager, or the printer's view of it."""

    def handlers(self, name: str) -> Handlers:
        """Ordered handlers of hook ``name``; an empty tuple when nobody implements it (cached)."""
        ...


#: a handler taking longer than this (seconds) stalls whatever called it noticeably: say so
SLOW_HANDLER = 0.1

_SKIP: Any = object()


#: what :func:`call_handler` returns for a handler that raised
FAILED: Any = object()


def call_handler(hook: str, plugin_id: str, handler: Handler, invoke: Callable[[Handler], Any],
                 subject: Any = _SKIP) -> Any:
    """Call one handler as ``invoke(handler)``: its result, or :data:`FAILED` when it raised.

    The rules of :func:`run_handlers` for one call, for callers that pair handlers with several
    values (the phases: each handler with each command the previous ones made).
    """
    started = time.perf_counter()
    try:
        return invoke(handler)
    except Exception:
        if subject is _SKIP:
            log.exception("plugin %s raised in the %s hook; skipped", plugin_id, hook)
        else:
            log.exception("plugin %s raised in the %s hook for %r; skipped", plugin_id, hook, subject)
        return FAILED
    finally:
        elapsed = time.perf_counter() - started
        if elapsed > SLOW_HANDLER:
            log.warning("plugin %s took %.0f ms in the %s hook; handlers run on the caller's thread (for "
                        "comm hooks: the serial loops) and stall it while they run", plugin_id, elapsed * 1000,
                        hook)


def run_handlers(hook: str, handlers: Iterable[tuple[str, Handler]], invoke: Callable[[Handler], Any], *,
                 subject: Any = _SKIP, failed: Any = _SKIP) -> Iterator[tuple[str, Any]]:
    """Call each handler as ``invoke(handler)``; yield ``(plugin id, result)`` for those that returned.

    ``invoke`` supplies the arguments of the moment, so a caller that chains handlers (each sees
    the previous one's result) updates what the closure reads. A raising handler is logged (with
    ``subject``, e.g. the command it was given, formatted only then) and skipped, or yields
    ``failed`` when that is given. A handler slower than :data:`SLOW_HANDLER` is named in a
    warning. The caller may stop iterating at any time.
    """
    for plugin_id, handler in handlers:
        result = call_handler(hook, plugin_id, handler, invoke, subject)
        if result is FAILED:
            if failed is _SKIP:
                continue
            result = failed
        yield plugin_id, result
