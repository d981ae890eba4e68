"""The CLI calls of the public contract, run for real on a temp base folder."""

import os
import subprocess
import sys
import textwrap

import pytest
import yaml
from click.testing import CliRunner

from octohost.cli import cli


@pytest.fixture
def basedir(tmp_path):
    return str(tmp_path / "not-yet-there")


@pytest.fixture
def run(basedir):
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cli, ["--basedir", basedir, *args], catch_exceptions=False)

    return invoke


def users_file(basedir):
    with open(os.path.join(basedir, "users.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)


def test_user_lifecycle(run, basedir):
    assert run("user", "add", "alice", "--password", "s3cret-pw", "--admin").exit_code == 0
    assert run("user", "add", "bob", "--password", "password1").exit_code == 0
    stored = users_file(basedir)
    assert stored["alice"]["password"] != "s3cret-pw" and stored["alice"]["password"].startswith(("scrypt:", "pbkdf2:"))
    assert "admins" in stored["alice"]["groups"] and "admins" not in stored["bob"]["groups"]

    listing = run("user", "list").output.splitlines()
    assert listing[0].startswith("alice\tadmins") and listing[1].startswith("bob\tusers")

    key = run("user", "apikey", "alice").output.strip()
    assert len(key) >= 32
    assert run("user", "apikey", "alice").output.strip() == key  # stable once created
    assert users_file(basedir)["alice"]["apikey"] == key

    assert run("user", "password", "bob", "--password", "new password").exit_code == 0
    from octohost.access.users import UserManager

    manager = UserManager(os.path.join(basedir, "users.yaml"))
    assert manager.check_password("bob", "new password") and not manager.check_password("bob", "password1")

    assert run("user", "remove", "bob").exit_code == 0
    assert "bob" not in users_file(basedir)


@pytest.mark.parametrize("args, message", [
    (("user", "add", "alice", "--password", "again-pw1"), "already exists"),
    (("user", "add", "bad name!", "--password", "password1"), "invalid user name"),
    (("user", "add", "carol", "--password", ""), "at least 8 characters"),
    (("user", "add", "carol", "--password", "1234567"), "at least 8 characters"),
    (("user", "remove", "nobody"), "unknown user 'nobody'"),
    (("user", "apikey", "nobody"), "unknown user 'nobody'"),
    (("user", "password", "nobody", "--password", "password1"), "unknown user 'nobody'"),
])
def test_user_errors_exit_2_and_change_nothing(run, basedir, args, message):
    run("user", "add", "alice", "--password", "s3cret-pw")
    before = users_file(basedir)
    result = run(*args)
    assert result.exit_code == 2
    assert message in result.output
    assert users_file(basedir) == before


def test_missing_password_option_is_a_usage_error(run):
    result = run("user", "add", "alice")
    assert result.exit_code == 2 and "--password" in result.output


def test_config_get_set_effective(run, basedir):
    assert run("config", "get", "serial.baudrate").output.strip() == "115200"
    assert run("config", "set", "serial.baudrate", "250000").exit_code == 0
    assert run("config", "set", "serial.additionalPorts", "[/dev/printer*, /dev/ttyACM*]").exit_code == 0
    assert run("config", "get", "serial.baudrate").output.strip() == "250000"
    assert yaml.safe_load(run("config", "get", "serial.additionalPorts").output) == ["/dev/printer*", "/dev/ttyACM*"]
    effective = yaml.safe_load(run("config", "effective").output)
    assert effective["serial"]["baudrate"] == 250000 and effective["server"]["port"] == 5000
    with open(os.path.join(basedir, "config.yaml"), encoding="utf-8") as f:
        assert yaml.safe_load(f) == {"_config_version": 1, "serial": {"baudrate": 250000,
                                                "additionalPorts": ["/dev/printer*", "/dev/ttyACM*"]}}


@pytest.mark.parametrize("args, message", [
    (("config", "set", "serial.baudrate", "fast"), "'serial.baudrate' expects an integer"),
    (("config", "set", "serial.nope", "1"), "unknown setting 'serial.nope'"),
    (("config", "set", "serial.window", "warp"), "one of 'ping-pong'"),
    (("config", "set", "serial.baudrate", "[unclosed"), "not valid YAML"),
    (("config", "get", "no.such.key"), "unknown setting 'no.such.key'"),
])
def test_config_errors_exit_2_and_keep_the_file(run, basedir, args, message):
    run("config", "set", "server.port", "8080")
    with open(os.path.join(basedir, "config.yaml"), encoding="utf-8") as f:
        before = f.read()
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    with open(os.path.join(basedir, "config.yaml"), encoding="utf-8") as f:
        assert f.read() == before


def test_broken_config_file_is_reported_for_every_command(run, basedir):
    os.makedirs(basedir)
    path = os.path.join(basedir, "config.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("server:\n  port: eighty\n")
    result = run("config", "effective")
    assert result.exit_code == 2
    assert path in result.output and "server.port" in result.output and "an integer" in result.output
    with open(path, encoding="utf-8") as f:
        assert f.read() == "server:\n  port: eighty\n"


def write_plugin(basedir, name, source):
    folder = os.path.join(basedir, "plugins")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(source))


def test_plugins_list_shows_version_status_and_hooks(run, basedir):
    write_plugin(basedir, "hello.py", '''
        __plugin_name__ = "Hello"
        __plugin_version__ = "2.0"
        __plugin_hooks__ = {"octoprint.comm.protocol.gcode.sent": lambda *a, **k: None,
                            "octoprint.comm.protocol.action": lambda *a, **k: None}
    ''')
    write_plugin(basedir, "crashy.py", "raise ImportError('no such dependency')\n")
    write_plugin(basedir, "quiet.py", "__plugin_version__ = '1'\n")
    assert run("config", "set", "plugins._disabled", "[quiet]").exit_code == 0
    result = run("plugins", "list")
    assert result.exit_code == 0
    rows = {line.split("\t")[0]: line.split("\t") for line in result.output.splitlines()}
    assert rows["hello"][1:] == ["2.0", "enabled", "folder", "comm.protocol.action, comm.protocol.gcode.sent"]
    assert rows["crashy"][2] == "failed: ImportError: no such dependency"
    assert rows["quiet"][2] == "disabled"


def test_plugins_disable_and_enable_store_the_choice(run, basedir):
    write_plugin(basedir, "hello.py", "__plugin_version__ = '1'\n")
    result = run("plugins", "disable", "hello")
    assert (result.exit_code, result.output) == (0, "Disabled hello (takes effect on the next start)\n")
    assert run("config", "get", "plugins._disabled").output.split() == ["-", "hello"]
    assert "\tdisabled\t" in run("plugins", "list").output

    os.remove(os.path.join(basedir, "plugins", "hello.py"))  # gone, but still listed as disabled
    result = run("plugins", "enable", "hello")
    assert (result.exit_code, result.output) == (0, "Enabled hello (takes effect on the next start)\n")
    assert "hello" not in run("config", "get", "plugins._disabled").output


def test_plugin_contributed_commands(run, basedir):
    write_plugin(basedir, "custom_cli_command.py", '''
        import click

        def get_commands(cli_group, pass_octoprint_ctx, *args, **kwargs):
            @click.command("greet")
            @click.option("--greeting", "-g", default="Hello")
            @click.argument("name", default="World")
            def greet_command(greeting, name):
                """Greet someone."""
                click.echo(f"{greeting} {name}! ({cli_group.settings.get('server.port')})")

            return [greet_command]

        __plugin_hooks__ = {"octoprint.cli.commands": get_commands}
    ''')
    listing = run("plugins", "--help").output
    assert "custom_cli_command:greet" in listing
    result = run("plugins", "custom_cli_command:greet", "-g", "Hola", "stranger")
    assert result.exit_code == 0 and result.output == "Hola stranger! (5000)\n"


def test_systemd_unit_runs_as_given_user_in_dialout(run, basedir):
    unit = run("systemd-unit", "--user", "pi", "--port", "5001").output
    assert "User=pi" in unit and "SupplementaryGroups=dialout" in unit and "Restart=on-failure" in unit
    assert "Environment=PYTHONOPTIMIZE=2" in unit  # as tests/server/test_serve_cli.py runs the daemon
    assert f"--basedir {os.path.abspath(basedir)} serve --port 5001" in unit


def test_real_console_entry_points(basedir):
    env = dict(os.environ, OCTOHOST_BASEDIR=basedir)
    out = subprocess.run([sys.executable, "-m", "octohost", "--help"], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 0
    for command in ("config", "plugins", "user"):
        assert command in out.stdout
    out = subprocess.run([sys.executable, "-m", "octohost", "user", "add", "eve", "--password", "password1"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0 and os.path.exists(os.path.join(basedir, "users.yaml"))
    out = subprocess.run([sys.executable, "-m", "octohost", "config", "set", "serial.baudrate", "x"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2 and out.stderr.startswith("Error: ")
