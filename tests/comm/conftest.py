import functools
import textwrap

import pytest

from octohost.comm.virtual import VirtualOptions, serve_pty
from octohost.plugin import PluginManager
from octohost.settings import Settings

from support import wait_until


@pytest.fixture
def settings(tmp_path):
    return Settings(str(tmp_path / "base"))


@pytest.fixture
def plugins(settings):
    """``plugins({"name.py": source, ...})`` writes plugin files and returns a discovered manager."""

    def make(files):
        import os

        folder = settings.folder("plugins")
        for name, source in files.items():
            with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(source))
        manager = PluginManager(settings)
        manager.discover(bundled=False, entry_points=False)
        for identifier in files:
            info = manager.plugins[identifier[:-3]]
            assert info.loaded, info.error
        return manager

    return make


class Recorder:
    """A CommCallback that remembers every call as (method name, args)."""

    def __init__(self):
        self.calls = []
        self.log = []
        self.states = []

    def on_comm_log(self, line):
        self.log.append(line)

    def on_comm_state_change(self, state):
        self.states.append(state)
        self.calls.append(("on_comm_state_change", (state,)))

    def __getattr__(self, name):
        if not name.startswith("on_comm_"):
            raise AttributeError(name)

        def record(*args, **kwargs):
            self.calls.append((name, args + tuple(kwargs.items())))

        return record

    def named(self, name):
        return [args for called, args in self.calls if called == name]


def _write_gcode(path, count, extra=None):
    """A file of ``count`` short moves with comments and blank lines; returns the commands in order."""
    commands = []
    with open(path, "w") as f:
        f.write("; generated test file\n\n")
        for i in range(count):
            command = f"G1 X{i % 200}.{i % 10} Y{(i * 7) % 200} E{i * 0.01:.3f}"
            commands.append(command)
            f.write(command + (" ; move\n" if i % 3 == 0 else "\n"))
            if extra and i in extra:
                f.write(extra[i] + "\n")
    return commands


@pytest.fixture
def machine(settings):
    """``machine(port="VIRTUAL", virtual=VirtualOptions(...), options={...}, plugin_manager=None)``.

    Connects, waits for OPERATIONAL and closes at teardown.
    """
    from octohost.comm.machine import MachineCom

    made = []

    def make(port="VIRTUAL", virtual=None, options=None, plugin_manager=None, script_renderer=None,
             wait=True, baudrate=115200):
        recorder = Recorder()
        comm = MachineCom(port, baudrate, recorder, settings, plugin_manager, script_renderer=script_renderer,
                          options=options, virtual_options=virtual)
        made.append(comm)
        comm.connect()
        if wait:
            wait_until(lambda: comm.get_state() == "OPERATIONAL" or comm.is_error(), interval=0.005,
                       message="OPERATIONAL")
            assert comm.get_state() == "OPERATIONAL", comm.get_error()
        return comm, recorder

    yield make
    for comm in made:
        comm.close()


@pytest.fixture
def wait_for():
    """``wait_for(predicate, timeout=30, message=...)``: ``support.wait_until``, polling every 5 ms."""
    return functools.partial(wait_until, interval=0.005)


@pytest.fixture
def write_gcode():
    """``write_gcode(path, count, extra={index: line})`` -> the file's commands in order."""
    return _write_gcode


@pytest.fixture
def pty_printer():
    """Start virtual printers on pseudo-terminals (``start(**VirtualOptions fields)``); all closed after the test."""
    servers = []

    def start(**options):
        server = serve_pty(VirtualOptions(**options))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def recorder():
    """A fresh recording CommCallback."""
    return Recorder()


@pytest.fixture(autouse=True)
def no_comm_threads_left():
    """Every test ends with the comm layer's threads gone."""
    import threading

    def comm_threads():
        return [t.name for t in threading.enumerate() if t.name.startswith("octohost.comm.")]

    yield
    wait_until(lambda: not comm_threads(), timeout=5, interval=0.01,
               message=lambda: f"the comm threads to end after the test; still running: {comm_threads()}")
