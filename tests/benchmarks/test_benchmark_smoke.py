"""The throughput benchmarks still run: quick versions, checking what they print, not how fast.

Figures belong in benchmark output, never in assertions; these only keep the commands the README
quotes from rotting, and check the runs were clean (every line accepted once, no resend, no
receive-buffer overflow).
"""

import os
import subprocess
import sys

import pytest

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "benchmarks")


def run(script, *args, timeout=240):
    result = subprocess.run([sys.executable, os.path.join(BENCHMARKS, script), *args], capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.e2e
def test_streaming_benchmark_quick_unthrottled():
    output = run("streaming.py", "--quick", "--only", "unthrottled")
    rows = [line.split() for line in output.splitlines() if line.startswith("unthrottled")]
    assert [row[1] for row in rows] == ["ping-pong", "rx-bytes", "advanced-ok"]
    for row in rows:
        lines, rate, resends, overflows = int(row[2]), float(row[3].replace(",", "")), int(row[8]), int(row[9])
        assert lines == 2000 and rate > 0 and resends == 0 and overflows == 0


@pytest.mark.e2e
def test_daemon_benchmark_quick():
    output = run("daemon.py", "--lines", "2000", "--rounds", "1", "--clients", "2", "--idle-seconds", "1")
    assert "daemon with PYTHONOPTIMIZE=2, idle" in output
    assert " 0 push clients: median" in output and " 2 push clients: median" in output
    assert "rate with 2 clients relative to none" in output
