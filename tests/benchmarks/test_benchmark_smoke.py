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
    # the bare loop runs beside every round: its row comes first, then octohost's, each with its ratio to it
    assert rows[0][1:3] == ["bare", "loop"]
    rows = rows[1:]
    assert [row[1] for row in rows] == ["ping-pong", "rx-bytes", "advanced-ok"]
    assert all(row[-2].endswith("%") and row[-1].endswith("x") for row in rows)
    for row in rows:
        lines, rate, resends, overflows = int(row[2]), float(row[3].replace(",", "")), int(row[8]), int(row[9])
        assert lines == 2000 and rate > 0 and resends == 0 and overflows == 0


@pytest.mark.e2e
def test_daemon_benchmark_quick():
    output = run("daemon.py", "--lines", "2000", "--rounds", "1", "--clients", "2", "--idle-seconds", "1")
    assert "daemon with PYTHONOPTIMIZE=2, idle" in output
    assert " 0 push clients: median" in output and " 2 push clients: median" in output
    assert "rate with 2 clients relative to none" in output


@pytest.mark.e2e
def test_web_load_benchmark_quick():
    """Every print completes with each move accepted once (the benchmark exits non-zero otherwise),
    and the REST pollers saw no error."""
    output = run("web_load.py", "--quick", "--lines", "300", "--pollers", "2", "--push-clients", "2",
                 "--upload-mb", "5")
    rows = [line for line in output.splitlines() if line.startswith(("115200 baud ", "unthrottled "))]
    runs = [(line[:12].strip(), line[13:22].strip()) for line in rows if "loaded / unloaded" not in line]
    assert runs == [("115200 baud", "unloaded"), ("115200 baud", "loaded"), ("unthrottled", "unloaded"),
                    ("unthrottled", "loaded")], output
    loaded = [line for line in rows if line[13:22].strip() == "loaded"]
    assert all("REST" in line and " 0 errors;" in line for line in loaded), output
    assert sum("loaded / unloaded:" in line for line in rows) == 2, output


@pytest.mark.e2e
def test_farm_benchmark_quick():
    """Three daemons on one mosquitto with a broker outage: every printer's events arrive without
    a gap (the benchmark exits non-zero otherwise) and the commands were answered."""
    output = run("farm.py", "--quick")
    assert "farm: 3 daemons on one mosquitto" in output and "0 missing seq numbers" in output, output
    starts = next(line for line in output.splitlines() if line.startswith("START_PRINT:"))
    assert "0 rejected" in starts and "ACCEPTED ms p50 nan" not in starts, output


@pytest.mark.e2e
def test_lost_ok_benchmark_quick():
    """Both cases lose their oks and recover each by a timeout (a short communication timeout keeps it quick)."""
    output = run("lost_ok.py", "--quick", "--communication", "6")
    rows = {line[:22].strip(): line[22:].split() for line in output.splitlines()
            if line.startswith(("no keepalives", "keepalive every"))}
    assert set(rows) == {"no keepalives", "keepalive every 2 s"}
    for row in rows.values():
        assert int(row[0]) == 2 and int(row[1]) == 2  # oks lost, timeouts that recovered them


@pytest.mark.e2e
def test_reconnect_benchmark_quick():
    output = run("reconnect.py", "--rounds", "1", "--max-wait", "0.5", "--set",
                 "serial.reconnect.stableSeconds=0.5")
    rows = [line.split() for line in output.splitlines() if line.strip().startswith("1 ")]
    assert len(rows) == 1 and float(rows[0][3]) > 0, output
    assert "reconnect (port back -> operational): median" in output
