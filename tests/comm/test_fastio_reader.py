"""The receive loop's reads on a real pyserial port over a pseudo-terminal (octohost.comm.fastio.Reader)."""

import os
import threading
import time
import tty

import pytest
import serial

from octohost.comm import fastio
from octohost.comm.receiving import Receiver

from support import wait_until


@pytest.fixture
def pty_port():
    master, slave = os.openpty()
    tty.setraw(slave)
    port = serial.Serial(os.ttyname(slave), 115200, timeout=0.25)
    yield master, port
    port.close()
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def test_an_answer_costs_one_read_and_no_select(pty_port, monkeypatch):
    """The hot path sleeps in the read itself: select would be a second system call per answer."""
    master, port = pty_port
    reader = fastio.Reader(port, 0.25)
    calls = []
    real_select = fastio.select.select
    monkeypatch.setattr(fastio.select, "select", lambda *args: calls.append(args) or real_select(*args))
    got = []
    thread = threading.Thread(target=lambda: got.append(reader.read()))
    thread.start()
    os.write(master, b"ok\n")
    thread.join(2)
    assert got == [b"ok\n"]
    assert calls == []


def test_a_quiet_port_reads_empty_after_the_timeout(pty_port):
    _, port = pty_port
    reader = fastio.Reader(port, 0.25)
    started = time.monotonic()
    assert reader.read() == b""
    assert 0.1 <= time.monotonic() - started < 1.0


def test_a_vanished_device_is_reported_not_read_as_quiet(pty_port):
    master, port = pty_port
    reader = fastio.Reader(port, 0.25)
    os.close(master)
    with pytest.raises(OSError):
        reader.read()


def test_stopping_an_idle_receive_loop_returns_within_the_read_timeout(pty_port):
    _, port = pty_port
    lost = []
    receiver = Receiver(port, lambda line: None, lambda: None, lost.append)
    receiver.running = True
    receiver.thread = threading.Thread(target=receiver.run)
    receiver.thread.start()
    started = time.monotonic()
    receiver.stop()
    assert not receiver.thread.is_alive()
    assert time.monotonic() - started < 0.5
    assert lost == []


def test_lines_arrive_through_the_loop(pty_port):
    master, port = pty_port
    handled = []
    receiver = Receiver(port, handled.append, lambda: None, lambda exc: None)
    receiver.running = True
    receiver.thread = threading.Thread(target=receiver.run)
    receiver.thread.start()
    os.write(master, b"start\nok T:21.0 /0.0\n")
    os.write(master, b"ok\n")
    wait_until(lambda: len(handled) == 3, timeout=5)
    receiver.stop()
    assert handled == ["start", "ok T:21.0 /0.0", "ok"]
