"""octoprint-cli 3.3.2 (a command line client for OctoPrint) against octohost: every command that
ends on its own (``continuous`` refreshes forever), in the order a user would run them (issue #15)."""

import subprocess
import sys

import pytest

from support import wait_until

pytest.importorskip("octoprint_cli")

pytestmark = pytest.mark.e2e

GCODE = "G28\nG92 E0\n" + "".join(f"G1 X{i % 50} Y{i % 40} E{i * 0.05:.2f} F3000\nG4 P50\n" for i in range(200))
COMMANDS = "server.commands."


@pytest.fixture
def cli(start_server, tmp_path):
    running = start_server(settings_values={COMMANDS + "serverRestartCommand": "true",
                                            COMMANDS + "systemRestartCommand": "true",
                                            COMMANDS + "systemShutdownCommand": "true"})
    config = tmp_path / "octoprint-cli.ini"
    config.write_text(f"[server]\nServerAddress = {running.url}\nApiKey = {running.keys['admin']}\n"
                      "[preferences]\nFormattedText = false\nUpdateCheck = false\n"
                      "[print]\nMaxExtruderTemp = 250\nMaxBedTemp = 100\n")

    def run(*args, answer="y\n"):
        done = subprocess.run([sys.executable, "-m", "octoprint_cli", "-c", str(config), *args], input=answer,
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stdout, done.stderr)
        return done.stdout

    run.running = running
    return run


def test_every_command_of_octoprint_cli(cli, tmp_path):
    printer = cli.running.context.printer
    assert "API v0.1" in cli("version")
    cli("connection", "status")
    cli("connection", "connect", "-p", "VIRTUAL", "-b", "115200")
    wait_until(printer.is_operational)
    cli("temp", "status")
    cli("temp", "extruder", "0")
    cli("temp", "bed", "0")
    cli("gcode", "M105")
    part = tmp_path / "part.gcode"
    part.write_text(GCODE)
    cli("files", "upload", str(part))
    assert "part.gcode" in cli("files", "list")
    cli("files", "info", "part.gcode")
    cli("print", "select", "part.gcode")
    cli("print", "start")
    wait_until(printer.is_printing)
    cli("print", "status")
    cli("print", "pause")
    wait_until(printer.is_paused)
    cli("print", "resume")
    wait_until(lambda: printer.is_printing() and not printer.is_paused())
    cli("print", "cancel")
    wait_until(lambda: printer.is_operational() and not printer.is_printing())
    cli("connection", "disconnect")
    for command in ("restart", "reboot", "shutdown"):  # each configured as `true`
        cli("system", command)


def test_restart_to_safe_mode(cli):
    cli("system", "restart-safe")
    # the restart command (`true`) runs after the flag the next start reads (test_serve_cli)
    wait_until(lambda: cli.running.context.settings.get("server.startOnceInSafeMode") is True)
