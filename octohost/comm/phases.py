"""The four gcode phase hooks (queuing, queued, sending, sent) and the two at-command hooks.

Handlers are the plugin manager's cached, ordered tuples; a phase nobody implements costs one
dict lookup. Each handler sees the previous handler's result (chaining), and every return
variant of the hook contract is honoured: None keeps the command; a string or 1-tuple rewrites
it, ``(None,)`` suppresses it; a 2-tuple also sets the ``cmd_type``; a 3-tuple adds tags; a list
of these expands one command into several (queuing only). A raising handler is logged with its
plugin id and skipped.
"""

import logging
import time

log = logging.getLogger(__name__)
phase_log = logging.getLogger("octohost.comm.command_phases")

QUEUING, QUEUED, SENDING, SENT = "queuing", "queued", "sending", "sent"
HOOKS = {phase: f"comm.protocol.gcode.{phase}" for phase in (QUEUING, QUEUED, SENDING, SENT)}
AT_HOOKS = {phase: f"comm.protocol.atcommand.{phase}" for phase in (QUEUING, SENDING)}


#: a handler taking longer than this (seconds) stalls the serial line noticeably: say so
SLOW_HANDLER = 0.1


def _no_handlers(name):
    return ()


def warn_if_slow(plugin_id, hook, started):
    elapsed = time.perf_counter() - started
    if elapsed > SLOW_HANDLER:
        log.warning("plugin %s took %.0f ms in the %s hook; handlers run on the serial loops and stall "
                    "the printer while they run", plugin_id, elapsed * 1000, hook)


class Phases:
    """Runs commands through the phase hooks on behalf of ``comm`` (handed to every handler)."""

    def __init__(self, comm, plugin_manager=None):
        self.comm = comm
        self._handlers = plugin_manager.handlers if plugin_manager is not None else _no_handlers

    def queuing(self, command):
        """The commands to enqueue for ``command``: [] if suppressed, several if expanded."""
        handlers = self._handlers(HOOKS[QUEUING])
        if phase_log.isEnabledFor(logging.DEBUG):
            log_phase(QUEUING, command)
        if not handlers:
            return [command]
        return self._run(QUEUING, handlers, command, allow_many=True)

    def sending(self, command):
        """``command`` as rewritten by the sending handlers, or None when suppressed."""
        handlers = self._handlers(HOOKS[SENDING])
        if phase_log.isEnabledFor(logging.DEBUG):
            log_phase(SENDING, command)
        if not handlers:
            return command
        results = self._run(SENDING, handlers, command, allow_many=False)
        return results[0] if results else None

    def notify(self, phase, command):
        """The queued and sent phases: handlers are told, their return values ignored."""
        handlers = self._handlers(HOOKS[phase])
        if phase_log.isEnabledFor(logging.DEBUG):
            log_phase(phase, command)
        for plugin_id, handler in handlers:
            started = time.perf_counter()
            try:
                handler(self.comm, phase, command.cmd, command.cmd_type, command.gcode,
                        subcode=command.subcode, tags=command.tags)
            except Exception:
                log.exception("plugin %s raised in the gcode %s hook for %r; skipped", plugin_id, phase, command.cmd)
            warn_if_slow(plugin_id, HOOKS[phase], started)

    def quiet(self):
        """True when no plugin implements a gcode phase and the phase log is off: nothing to call."""
        return not (any(self._handlers(name) for name in HOOKS.values()) or phase_log.isEnabledFor(logging.DEBUG))

    def atcommand(self, phase, name, params, tags):
        """Tell the at-command handlers of ``phase`` about ``@name params``."""
        for plugin_id, handler in self._handlers(AT_HOOKS[phase]):
            started = time.perf_counter()
            try:
                handler(self.comm, phase, name, params, tags=tags)
            except Exception:
                log.exception("plugin %s raised in the atcommand %s hook for @%s; skipped", plugin_id, phase, name)
            warn_if_slow(plugin_id, AT_HOOKS[phase], started)

    def _run(self, phase, handlers, command, allow_many):
        results = [command]
        for plugin_id, handler in handlers:
            next_results = []
            for current in results:
                started = time.perf_counter()
                try:
                    returned = handler(self.comm, phase, current.cmd, current.cmd_type, current.gcode,
                                       subcode=current.subcode, tags=current.tags)
                except Exception:
                    log.exception("plugin %s raised in the gcode %s hook for %r; skipped",
                                  plugin_id, phase, current.cmd)
                    next_results.append(current)
                    continue
                finally:
                    warn_if_slow(plugin_id, HOOKS[phase], started)
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


def normalize(returned, command, plugin_id, phase):
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


def log_phase(phase, command):
    phase_log.debug("phase: %s | command: %s | gcode: %s | tags: [ %s ]",
                    phase, command.cmd, command.gcode, ", ".join(sorted(command.tags)))
