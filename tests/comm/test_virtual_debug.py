"""The virtual printer's ``!!DEBUG:`` faults, its stable ``--link`` and ``--replug-after``."""

import os
import subprocess
import sys

import pytest
import serial
from comm_support import numbered

from octohost.comm.virtual import VirtualOptions, VirtualPrinter, serve_pty

from support import wait_until


def lines_until_ok(port):
    lines = []
    while not lines or not lines[-1].startswith("ok"):
        raw = port.readline()
        assert raw.endswith(b"\n"), f"no complete line (got {raw!r} after {lines})"
        lines.append(raw.decode().rstrip("\n"))
    return lines


@pytest.fixture
def printer():
    printer = VirtualPrinter(VirtualOptions(busy_protocol=False))
    printer.timeout = 2
    printer.reset_input_buffer()  # the start banner
    yield printer
    printer.close()


def send(printer, line):
    printer.write(line.encode() + b"\n")
    return lines_until_ok(printer)


def test_action_and_error_lines_come_with_an_ok(printer):
    assert send(printer, "!!DEBUG:action out_of_filament T0") == ["//action:out_of_filament T0", "ok"]
    assert send(printer, numbered(0, "M110 N0")) == ["ok"]
    assert send(printer, numbered(1, "!!DEBUG:error Thermal Runaway, system stopped!")) == [
        "Error:Thermal Runaway, system stopped!", "ok"]


def test_hang_answers_nothing_until_a_reset(printer):
    printer.write(b"!!DEBUG:hang\n")
    printer.write(b"M105\n")
    printer.timeout = 0.3
    assert printer.read(100) == b""
    printer.reset()
    printer.timeout = 2
    assert printer.readline() == b"start\n"
    printer.reset_input_buffer()
    assert send(printer, "M105")[0].startswith("ok T:")


def test_reset_restarts_the_firmware_without_an_ok(printer):
    printer.write(b"!!DEBUG:reset\n")
    assert printer.readline() == b"start\n"
    assert not printer.firmware.hung


def test_unplug_makes_reads_fail(printer):
    printer.write(b"!!DEBUG:unplug\n")
    with pytest.raises(serial.SerialException):
        printer.read(10)


def test_the_link_follows_the_pty_and_goes_with_it(tmp_path):
    link = str(tmp_path / "ttyVIRTUAL")
    first = serve_pty(link=link)
    try:
        assert os.path.realpath(link) == first.path
        port = serial.Serial(link, 115200, timeout=2)
        port.write(b"M117 hello\n")
        assert lines_until_ok(port)[-1] == "ok"
        port.write(b"!!DEBUG:unplug\n")
        wait_until(lambda: not os.path.lexists(link), timeout=5)  # unplugged: the name is gone
        port.close()
        second = serve_pty(link=link)
        try:
            assert os.path.realpath(link) == second.path
        finally:
            first.close()  # an older server closing late leaves the newer one's link alone
            assert os.path.realpath(link) == second.path
            second.close()
        assert not os.path.lexists(link)
    finally:
        first.close()


def identity(path):
    st = os.lstat(path)
    return st.st_ino, st.st_mtime_ns


@pytest.mark.e2e
def test_cli_link_and_replug_after_an_unplug(tmp_path):
    link = str(tmp_path / "printer")
    process = subprocess.Popen(
        [sys.executable, "-m", "octohost", "--basedir", str(tmp_path), "virtual", "--pty", "--link", link,
         "--replug-after", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == link
        assert os.path.realpath(link).startswith("/dev/pts/")
        # the new pty may get the old one's number, and the new link the old link's inode: the link
        # itself is new, so its inode and modification time together tell it apart
        first = identity(link)
        port = serial.Serial(link, 115200, timeout=5)
        port.write(b"!!DEBUG:unplug\n")
        port.close()
        wait_until(lambda: os.path.lexists(link) and identity(link) != first, timeout=10,
                   message="the link to the re-plugged pty")
        port = serial.Serial(link, 115200, timeout=5)
        port.write(b"M105\n")
        assert lines_until_ok(port)[-1].startswith("ok T:")
        port.close()
        process.terminate()
        assert process.wait(timeout=10) == 0
        assert not os.path.lexists(link)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_cli_link_needs_pty(tmp_path):
    result = subprocess.run([sys.executable, "-m", "octohost", "--basedir", str(tmp_path), "virtual", "--link",
                             str(tmp_path / "x")], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "Error: --link and --replug-after need --pty" in result.stderr
