"""Every CLI error path, as a user meets it: one ``Error:`` line last, exit code 2, nothing changed.

Run as real processes (``python -m octohost``), so a traceback printed by logging or an uncaught
exception shows up exactly as it would in a terminal.
"""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

# (arguments after `--basedir BASE`, text the Error line must contain). FILE is a small G-code
# file, BADYAML a file with a YAML syntax error, AFILE a plain file, BASE the base folder.
CASES = [
    (["nosuchcmd"], "No such command"),
    (["print", "FILE", "--port", "/dev/null"], "not a serial port"),
    (["print", "FILE", "--port", "/dev/octohost-no-such-port"], "could not open"),
    (["print", "FILE", "--port", "socket://127.0.0.1:1"], "connection refused"),
    (["print", "MISSING", "--port", "VIRTUAL"], "no such file"),
    (["print", "FILE", "--window", "warp"], "warp"),
    (["plugins", "enable", "nosuch"], "unknown plugin 'nosuch'"),
    (["plugins", "disable", "nosuch"], "unknown plugin 'nosuch'"),
    (["plugins", "nosuch:cmd"], "No such command"),
    (["profiles", "show", "nosuch"], "no printer profile with id 'nosuch'"),
    (["profiles", "select", "nosuch"], "no printer profile with id 'nosuch'"),
    (["profiles", "remove", "_default"], "cannot be removed"),
    (["profiles", "add", "MISSING"], "cannot read"),
    (["profiles", "add", "BADYAML"], "not valid YAML"),
    (["profiles", "add", "AFILE"], "expected a mapping"),
    (["config", "get", "no.such"], "unknown setting 'no.such'"),
    (["config", "set", "no.such", "1"], "unknown setting 'no.such'"),
    (["config", "unset", "no.such"], "unknown setting 'no.such'"),
    (["config", "set", "serial.baudrate", "fast"], "expects an integer"),
    (["config", "set", "serial.port"], "Missing argument"),
    (["user", "remove", "nobody"], "unknown user 'nobody'"),
    (["user", "apikey", "nobody"], "unknown user 'nobody'"),
    (["user", "add", "bad name!", "--password", "password1"], "invalid user name"),
    (["virtual", "--checksum-error-rate", "2"], "between 0 and 1"),
    (["virtual", "--sd-file", "MISSING"], "does not exist"),
    (["serve", "--port", "99999"], "99999"),
    (["--config", "AFILE/config.yaml", "config", "set", "serial.port", "x"], "AFILE"),
]


def run_cli(basedir, args):
    return subprocess.run([sys.executable, "-m", "octohost", "--basedir", str(basedir), *args],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def snapshot(root):
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = f.read()
    return found


@pytest.mark.parametrize("args, message", CASES, ids=[" ".join(args) for args, _ in CASES])
def test_error_is_one_line_exit_2_and_changes_nothing(tmp_path, args, message):
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.yaml").write_text("serial:\n  timeout:\n    connection: 2\n")
    files = {"FILE": tmp_path / "part.gcode", "BADYAML": tmp_path / "bad.yaml", "AFILE": tmp_path / "afile",
             "MISSING": tmp_path / "missing.gcode"}
    files["FILE"].write_text("G1 X1\n")
    files["BADYAML"].write_text("id: [unclosed\n")
    files["AFILE"].write_text("just text\n")
    paths = {name: str(path) for name, path in files.items()}
    args = [a.replace("AFILE", paths["AFILE"]) if a.startswith("AFILE") else paths.get(a, a) for a in args]
    message = message.replace("AFILE", paths["AFILE"])
    before = snapshot(base)

    result = run_cli(base, args)

    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert [line for line in lines if line.startswith("Error:")] == lines[-1:], result.stderr
    assert message in lines[-1]
    # logs/ and the empty sidecar lock files (octohost/util/shared_file.py) may appear; nothing else
    kept = {name: content for name, content in snapshot(base).items()
            if not name.startswith("logs") and not (name.endswith(".lock") and content == b"")}
    assert kept == before


def test_enable_accepts_a_disabled_id_whose_plugin_is_gone(tmp_path):
    """`plugins enable` cleans a stale id out of plugins._disabled rather than refusing it."""
    (tmp_path / "config.yaml").write_text("plugins:\n  _disabled: [gone, other]\n")
    result = run_cli(tmp_path, ["plugins", "enable", "gone"])
    assert result.returncode == 0, result.stderr
    assert "gone" not in (tmp_path / "config.yaml").read_text()
    assert "other" in (tmp_path / "config.yaml").read_text()
