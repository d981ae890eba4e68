"""The four gcode phase hooks (queuing, queued, sending, sent) and the two at-command hooks.

Handlers are the plugin manager's cached, ordered tuples; a phase nobody implements costs one
dict lookup. Each handler sees the previous handler's result (chaining), and every return
variant of the hook contract is honoured: None keeps the command; a string or 1-tuple rewrites
it, ``(None,)`` suppresses it; a 2-tuple also sets the ``cmd_type``; a 3-tuple adds tags; a list
of these expands one command into several (queuing only). Handlers are called through
:func:`octohost.plugin.handlers.run_handlers`: a raising one is logged with its plugin id and
counts as "no change".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from octohost.plugin.handlers import FAILED, Handler, Handlers, HandlerSource, call_handler, run_handlers

from .sendqueue import Command

log = logging.getLogger(__name__)
phase_log = logging.getLogger("octohost.comm.command_phases")

QUEUING, QUEUED, SENDING, SENT = "queuing", "queued", "sending", "sent"
HOOKS = {phase: f"comm.protocol.gcode.{phase}" for phase in (QUEUING, QUEUED, SENDING, SENT)}
AT_HOOKS = {phase: f"comm.protocol.atcommand.{phase}" for phase in (QUEUING, SENDING)}


def no_handlers(name: str) -> Handlers:
    """The handler lookup without a plugin manager: nobody implements anything."""
    return ()


class Phases:
    """Runs commands through the phase hooks on behalf of ``comm`` (handed to every handler)."""

    def __init__(self, comm: object, plugin_manager: HandlerSource | None = None) -> None:
        self.comm = comm
        self._handlers: Callable[[str], Handlers] = (plugin_manager.handlers if plugin_manager is not None
                                                     else no_handlers)

    def queuing(self, command: Command) -> list[Command]:
        """The commands to enqueue for ``command``: [] if suppressed, several if expanded."""
        handlers = self._handlers(HOOKS[QUEUING])
        if phase_log.isEnabledFor(logging.DEBUG):
            log_phase(QUEUING, command)
        if not handlers:
            return [command]
        return self._run(QUEUING, handlers, command, allow_many=True)

    def sending(self, command: Command) -> Command | None:
        """``command`` as rewritten by the sending handlers, or None when suppressed."""
        handlers = self._handlers(HOOKS[SENDING])
        if phase_log.isEnabledFor(logging.DEBUG):
            log_phase(SENDING, command)
        if not handlers:
            return command
        results = self._run(SENDING, handlers, command, allow_many=False)
        return results[0] if results else None

    def notify(self, phase: str, command: Command) -> None:
        """The queued and sent phases: handlers are told, their return values ignored."""
        handlers = self._handlers(HOOKS[phase])
        if phase_log.isEnabledFor(logging.DEBUG):
            log_phase(phase, command)
        if not handlers:
            return
        comm = self.comm
        for _ in run_handlers(HOOKS[phase], handlers,
                              lambda handler: handler(comm, phase, command.cmd, command.cmd_type, command.gcode,
                                                      subcode=command.subcode, tags=command.tags),
                              subject=command.cmd):
            pass

    def quiet(self) -> bool:
        """True when no plugin implements a gcode phase and the phase log is off: nothing to call."""
        return not (any(self._handlers(name) for name in HOOKS.values()) or phase_log.isEnabledFor(logging.DEBUG))

    def atcommand(self, phase: str, name: str, params: str, tags: set[str]) -> None:
        """Tell the at-command handlers of ``phase`` about ``@name params``."""
        comm = self.comm
        for _ in run_handlers(AT_HOOKS[phase], self._handlers(AT_HOOKS[phase]),
                              lambda handler: handler(comm, phase, name, params, tags=tags), subject="@" + name):
            pass

    def _run(self, phase: str, handlers: Handlers, command: Command, allow_many: bool) -> list[Command]:
        """Chain ``handlers`` over ``command``: each handler sees every command the previous ones made."""
        comm = self.comm
        hook = HOOKS[phase]
        results = [command]
        for plugin_id, handler in handlers:
            next_results: list[Command] = []
            for current in results:
                returned = call_handler(hook, plugin_id, handler, partial(_call_phase_handler, comm, phase, current),
                                        current.cmd)
                if returned is FAILED:
                    returned = None  # a failure counts as "no change"
                normalized = normalize(returned, current, plugin_id, phase)
                if len(normalized) > 1 and not allow_many:
                    log.error("plugin %s returned %d commands in the %s phase for %r; only the queuing phase "
                              "may expand a command, sending it unchanged",
                              plugin_id, len(normalized), phase, current.cmd)
                    next_results.append(current)
                else:
                    next_results.extend(normalized)
            if not next_results:
                return []
            results = next_results
        return results


def _call_phase_handler(comm: object, phase: str, command: Command, handler: Handler) -> Any:
    return handler(comm, phase, command.cmd, command.cmd_type, command.gcode, subcode=command.subcode,
                   tags=command.tags)


def normalize(returned: Any, command: Command, plugin_id: str, phase: str) -> list[Command]:
    """Turn one handler's return value into the list of commands it stands for."""
    if returned is None:
        return [command]
    if isinstance(returned, str):
        returned = (returned,)
    if isinstance(returned, tuple):
        returned = [returned]
    elif not isinstance(returned, list):
        log.warning("plugin %s returned %r from the gcode %s hook, which is no valid result; ignored",
                    plugin_id, returned, phase)
        return [command]
    results = []
    for entry in returned:
        if isinstance(entry, str):
            entry = (entry,)
        if not isinstance(entry, tuple) or not entry or len(entry) > 3:
            log.warning("plugin %s returned the invalid entry %r from the gcode %s hook; ignored",
                        plugin_id, entry, phase)
            continue
        cmd = entry[0]
        if cmd is None:
            continue
        if not isinstance(cmd, str):
            log.warning("plugin %s returned the non-string command %r from the gcode %s hook; ignored",
                        plugin_id, cmd, phase)
            continue
        cmd_type = entry[1] if len(entry) > 1 else command.cmd_type
        tags = set(command.tags)
        if len(entry) > 2 and entry[2]:
            tags |= set(entry[2])
        if cmd == command.cmd and cmd_type == command.cmd_type and len(entry) < 3:
            results.append(command)
            continue
        if cmd != command.cmd:
            tags |= {"source:rewrite", f"phase:{phase}", f"plugin:{plugin_id}"}
        results.append(command.replaced(cmd, cmd_type, tags))
    return results


def log_phase(phase: str, command: Command) -> None:
    phase_log.debug("phase: %s | command: %s | gcode: %s | tags: [ %s ]",
                    phase, command.cmd, command.gcode, ", ".join(sorted(command.tags)))
