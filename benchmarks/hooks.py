"""Cost of one G-code phase hook call with 0, 1 and 5 handlers.

Run: python benchmarks/hooks.py

Compares pluggy's own call (``pm.hook.name(**kw)``) with octohost's cached, ordered handler tuple
(``PluginManager.handlers``), iterated with the phase contract's chaining, as the serial loops do;
then the real code: ``Phases.sending`` (what the send loop calls for a command, handlers run
through ``run_handlers``) and ``PluginManager.call``. Each G-code line passes four phases, so
multiply by four for the per-line cost.
"""

import sys
import time
import types

from octohost.comm.phases import Phases
from octohost.comm.sendqueue import Command
from octohost.plugin import PluginManager
from octohost.plugin.specs import hookimpl

N = 200_000


def make_manager(count, native):
    pm = PluginManager()
    for i in range(count):
        if native:
            module = types.ModuleType(f"native{i}")

            @hookimpl
            def comm_protocol_gcode_sending(cmd):
                return None

            module.comm_protocol_gcode_sending = comm_protocol_gcode_sending
        else:
            def handler(comm_instance, phase, cmd, cmd_type, gcode, *args, **kwargs):
                return None

            module = types.SimpleNamespace(__plugin_hooks__={"octoprint.comm.protocol.gcode.sending": handler})
        pm.register_module(f"p{i}", module)
    return pm


def dispatch(handlers, cmd, tags):
    """What the send loop does for one phase: skip when empty, else chain the handlers."""
    if not handlers:
        return cmd
    for _, handler in handlers:
        result = handler(None, "sending", cmd, None, "G1", subcode=None, tags=tags)
        if result is not None:
            cmd = result[0] if isinstance(result, tuple) else result
    return cmd


def per_call_us(fn):
    """CPU time of this process per call: other processes on a busy machine do not count."""
    start = time.process_time()
    for _ in range(N):
        fn()
    return (time.process_time() - start) / N * 1e6


def main():
    tags = frozenset({"source:file"})
    print(f"python {sys.version.split()[0]}, {N:,} calls each; CPU microseconds per call (lower is better)")
    print(f"{'handlers':>8}  {'pluggy pm.hook':>15}  {'octohost cached':>16}  {'cached, native impls':>21}"
          f"  {'Phases.sending':>15}  {'PluginManager.call':>19}")
    for count in (0, 1, 5):
        pm = make_manager(count, native=True)
        hook = pm._pm.hook.comm_protocol_gcode_sending
        pluggy_us = per_call_us(lambda hook=hook: hook(comm_instance=None, phase="sending", cmd="G1 X1",
                                                       cmd_type=None, gcode="G1", subcode=None, tags=tags))
        native_handlers = pm.handlers("comm.protocol.gcode.sending")
        native_us = per_call_us(lambda handlers=native_handlers: dispatch(handlers, "G1 X1", tags))
        dict_manager = make_manager(count, native=False)
        dict_handlers = dict_manager.handlers("comm.protocol.gcode.sending")
        dict_us = per_call_us(lambda handlers=dict_handlers: dispatch(handlers, "G1 X1", tags))
        phases = Phases(None, dict_manager)
        command = Command("G1 X1", tags=set(tags))
        phases_us = per_call_us(lambda phases=phases, command=command: phases.sending(command))
        call_us = per_call_us(lambda manager=dict_manager: manager.call("comm.protocol.gcode.sending", None, "sending",
                                                                        "G1 X1", None, "G1", subcode=None, tags=tags))
        print(f"{count:>8}  {pluggy_us:>15.2f}  {dict_us:>16.2f}  {native_us:>21.2f}  {phases_us:>15.2f}"
              f"  {call_us:>19.2f}")


if __name__ == "__main__":
    main()
