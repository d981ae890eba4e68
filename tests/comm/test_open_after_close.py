"""A port that fails to open after the connection was closed meanwhile (a reconnect attempt under
a shutdown) ends the connection as the close said, without a refused state change."""

import threading

from octohost.comm.callback import CommCallback
from octohost.comm.machine import MachineCom
from octohost.comm.states import State
from octohost.comm.transport import TransportError

from support import wait_until


class Recorder(CommCallback):
    def __init__(self):
        self.states = []
        self.errors = []

    def on_comm_state_change(self, state):
        self.states.append(state)

    def on_comm_error(self, message):
        self.errors.append(message)


def test_an_open_failing_after_close_changes_nothing():
    opening, release = threading.Event(), threading.Event()

    def slow_failure(port, baudrate):
        opening.set()
        release.wait(10)
        raise TransportError(f"could not open {port}: no such device")

    callback = Recorder()
    comm = MachineCom("/dev/gone", 115200, callback, transport_factory=slow_failure)
    comm.connect()
    assert opening.wait(10)
    closer = threading.Thread(target=comm.close)
    closer.start()
    wait_until(lambda: comm.get_state() == State.CLOSED, timeout=10)
    release.set()
    closer.join(10)
    assert callback.states == [State.OPEN_SERIAL, State.CLOSED]
    assert callback.errors == []
