"""``octohost print`` as a user runs it: a subprocess streaming to the virtual printer's pty."""

import subprocess
import sys

import pytest
import yaml

pytestmark = pytest.mark.e2e


def run_print(basedir, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", "octohost", "--basedir", str(basedir), "print", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_prints_every_line_and_exits_0(tmp_path, pty_printer, write_gcode):
    commands = write_gcode(tmp_path / "part.gcode", 3000)
    server = pty_printer(checksum_error_rate=0.01, seed=3)
    result = run_print(tmp_path / "base", str(tmp_path / "part.gcode"), "--port", server.path, "--window", "rx-bytes")
    assert result.returncode == 0, result.stderr
    assert [line for line in server.printer.accepted if line.startswith("G1 ")] == commands
    assert "3,000 lines" in result.stderr and "100.0%" in result.stderr and "lines/s" in result.stderr
    assert "Printed" in result.stderr


def test_a_disconnect_exits_non_zero_with_the_reason(tmp_path, pty_printer, write_gcode):
    write_gcode(tmp_path / "part.gcode", 3000)
    server = pty_printer(disconnect_after_lines=500)
    result = run_print(tmp_path / "base", str(tmp_path / "part.gcode"), "--port", server.path, "--quiet")
    assert result.returncode == 1
    assert "Error: Lost the connection to the printer" in result.stderr


def test_a_silent_port_is_an_error_line_and_exit_2(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "config.yaml").write_text(yaml.safe_dump({"serial": {"timeout": {"connection": 0.5}}}))
    (tmp_path / "part.gcode").write_text("G1 X1\n")
    result = run_print(tmp_path / "base", str(tmp_path / "part.gcode"), "--port", "loop://")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("Error:") and "did not answer" in result.stderr


def test_bad_usage_exits_2(tmp_path):
    result = run_print(tmp_path / "base", str(tmp_path / "missing.gcode"), "--port", "VIRTUAL")
    assert result.returncode == 2 and "Error:" in result.stderr and "missing.gcode" in result.stderr
    (tmp_path / "part.gcode").write_text("G1 X1\n")
    result = run_print(tmp_path / "base", str(tmp_path / "part.gcode"), "--window", "warp")
    assert result.returncode == 2 and "warp" in result.stderr
