"""The virtual printer over a real pseudo-terminal, in-process and as `octohost virtual --pty`."""

import os
import signal
import subprocess
import sys
import threading

import pytest
import serial
from comm_support import numbered

from octohost.comm.virtual import VirtualOptions, serve_pty

from support import wait_until


class PortHost:
    """A host on the slave side: writes lines, reads answers up to the ok that closes them."""

    def __init__(self, path):
        self.port = serial.Serial(path, 115200, timeout=5)

    def read_line(self):
        raw = self.port.readline()
        assert raw.endswith(b"\n"), f"no complete line within the timeout (got {raw!r})"
        return raw.decode().rstrip("\n")

    def send(self, line):
        self.port.write(line.encode() + b"\n")
        lines = [self.read_line()]
        while not lines[-1].startswith("ok"):
            lines.append(self.read_line())
        return lines

    def close(self):
        self.port.close()


@pytest.fixture
def server():
    servers = []

    def start(**options):
        srv = serve_pty(VirtualOptions(**options))
        servers.append(srv)
        return srv

    yield start
    for srv in servers:
        srv.close()


def test_pty_path_opens_with_pyserial_and_answers(server):
    srv = server()
    host = PortHost(srv.path)
    try:
        assert host.send("M105") == ["ok T:21.3 /0.0 B:21.0 /0.0 @:0 B@:0"]
        assert host.send(numbered(0, "M110 N0")) == ["ok"]
        assert host.send(numbered(2, "G1 X2")) == [
            "Error:Line Number is not Last Line Number+1, Last Line: 0", "Resend: 1", "ok"]
        for n in range(1, 201):
            assert host.send(numbered(n, f"G1 X{n}")) == ["ok"]
        assert srv.printer.accepted == ["M105", "M110 N0"] + [f"G1 X{n}" for n in range(1, 201)]
    finally:
        host.close()


def test_hosts_can_close_and_reopen_the_port(server):
    srv = server()
    for attempt in range(3):
        host = PortHost(srv.path)
        assert host.send(f"M117 attempt {attempt}") == ["ok"]
        host.close()
    assert srv.printer.accepted == ["M117 attempt 0", "M117 attempt 1", "M117 attempt 2"]


def test_large_output_reaches_a_slow_reader_completely(server):
    files = {f"file{i:03d}.gcode": b"G1 X1\n" * i for i in range(300)}
    srv = server(sd_files=files)
    host = PortHost(srv.path)
    try:
        host.port.write(b"M20 L\n")
        # a slow reader: let the listing pile up in the pty (more than a few lines of it) before reading
        wait_until(lambda: host.port.in_waiting > 1024, message=lambda: f"{host.port.in_waiting} bytes waiting")
        lines = [host.read_line()]
        while lines[-1] != "ok":
            lines.append(host.read_line())
        listed = {line.split(" ", 2)[2] for line in lines[1:-2]}
        assert lines[0] == "Begin file list" and lines[-2] == "End file list"
        assert listed == set(files)
    finally:
        host.close()


def test_disconnect_fault_makes_the_port_vanish(server):
    srv = server(disconnect_after_lines=3)
    host = PortHost(srv.path)
    try:
        assert host.send("G1 X1") == ["ok"]
        assert host.send("G1 X2") == ["ok"]
        host.port.write(b"G1 X3\n")
        with pytest.raises(serial.SerialException):
            while True:
                host.port.read(100)
    finally:
        host.close()
    assert not os.path.exists(srv.path)


def test_close_stops_every_thread(server):
    before = set(threading.enumerate())
    srv = server()
    host = PortHost(srv.path)
    host.send("M105")
    host.close()
    srv.close()
    assert set(threading.enumerate()) <= before


def _start_cli(tmp_path, *args):
    process = subprocess.Popen(
        [sys.executable, "-m", "octohost", "--basedir", str(tmp_path), "virtual", "--pty", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    path = process.stdout.readline().strip()
    return process, path


@pytest.mark.e2e
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_a_pty_until_signalled(tmp_path, sig):
    process, path = _start_cli(tmp_path, "--seed", "7", "--advanced-ok", "--time-scale", "100")
    try:
        assert path.startswith("/dev/"), process.stderr.read()
        host = PortHost(path)
        assert host.send(numbered(0, "M110 N0")) == ["ok N0 P15 B3"]
        assert host.send(numbered(1, "G28")) == ["ok N1 P15 B3"]
        host.close()
        process.send_signal(sig)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


@pytest.mark.e2e
def test_cli_faults_are_deterministic_for_a_seed(tmp_path):
    def transcript():
        process, path = _start_cli(tmp_path, "--seed", "11", "--checksum-error-rate", "0.3")
        host = PortHost(path)
        try:
            answers = [host.send(numbered(0, "M110 N0"))]
            n = 1
            while n <= 40:
                answer = host.send(numbered(n, f"G1 X{n}"))
                answers.append(answer)
                if answer == ["ok"]:
                    n += 1
            return answers
        finally:
            host.close()
            process.terminate()
            process.wait(timeout=10)
            process.stdout.close()
            process.stderr.close()

    first = transcript()
    assert any(answer[0].startswith("Error:checksum mismatch") for answer in first)
    assert transcript() == first


def test_cli_console_answers_lines_from_stdin(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "octohost", "--basedir", str(tmp_path), "virtual", "--time-scale", "100"],
        input="M105\nG28\nM114\n", capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "start"
    assert "ok T:21.3 /0.0 B:21.0 /0.0 @:0 B@:0" in lines
    assert lines[-2].startswith("X:0.00 Y:0.00 Z:0.00") and lines[-1] == "ok"


def test_cli_puts_files_on_the_sd_card(tmp_path):
    gcode = tmp_path / "Calibration Cube.gcode"
    gcode.write_text("G28\nG1 X10\n")
    result = subprocess.run(
        [sys.executable, "-m", "octohost", "--basedir", str(tmp_path), "virtual", "--sd-file", str(gcode)],
        input="M20 L\n", capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "CALIBR~1.GCO 11 Calibration Cube.gcode" in result.stdout.splitlines()


def test_cli_uses_the_serial_virtual_settings(tmp_path):
    (tmp_path / "config.yaml").write_text("serial:\n  virtual:\n    firmwareName: Configured FW\n")
    result = subprocess.run(
        [sys.executable, "-m", "octohost", "--basedir", str(tmp_path), "virtual"],
        input="M115\n", capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "FIRMWARE_NAME:Configured FW " in result.stdout


def test_cli_takes_the_flush_option(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "octohost", "--basedir", str(tmp_path), "virtual", "--flush-rx-on-error"],
        input=f"{numbered(0, 'M110 N0')}\nN1 G1 X1*0\n", capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-4:] == ["ok", "Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok"]


def test_cli_rejects_a_bad_rate(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "octohost", "--basedir", str(tmp_path), "virtual", "--pty", "--lost-ok-rate", "1.5"],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "must be between 0 and 1" in result.stderr
