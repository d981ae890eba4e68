import os

import pytest
import yaml

from octohost.settings import Settings, SettingsError, defaults
from octohost.settings.example import render_example

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_config(basedir, text):
    path = basedir / "config.yaml"
    path.write_text(text)
    return path


def test_fresh_basedir_is_created_and_gives_defaults(tmp_path):
    base = tmp_path / "new" / "base"
    s = Settings(str(base))
    assert base.is_dir()
    assert s.get("serial.timeout.communication") == 30.0
    assert s.get("server.port") == 5000
    assert not (base / "config.yaml").exists()


def test_file_holds_only_what_differs(tmp_path):
    s = Settings(str(tmp_path))
    s.set("serial.baudrate", 250000)
    s.set("server.port", 5000)  # the default: not written
    on_disk = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert on_disk == {"_config_version": 1, "serial": {"baudrate": 250000}}  # plus the format version
    s.set("serial.baudrate", 115200)
    assert yaml.safe_load((tmp_path / "config.yaml").read_text()) == {"_config_version": 1}


def test_values_survive_a_reload(tmp_path):
    Settings(str(tmp_path)).set("serial.additionalPorts", ["/dev/printer*"])
    assert Settings(str(tmp_path)).get("serial.additionalPorts") == ["/dev/printer*"]


def test_int_accepted_for_float_and_returned_as_float(tmp_path):
    s = Settings(str(tmp_path))
    s.set("serial.timeout.communication", 12)
    assert s.get("serial.timeout.communication") == 12.0
    assert isinstance(s.get("serial.timeout.communication"), float)


@pytest.mark.parametrize("key, value, expected", [
    ("serial.baudrate", "fast", "expects an integer"),
    ("serial.baudrate", True, "expects an integer"),
    ("serial.log", "yes", "expects a boolean"),
    ("serial.window", "turbo", "one of 'ping-pong', 'rx-bytes', 'advanced-ok'"),
    ("serial.additionalPorts", ["/dev/a", 3], "got item 3"),
    ("serial.nonsense", 1, "unknown setting 'serial.nonsense'"),
    ("serial.baudrate.deeper", 1, "is not a section"),
    ("serial", 3, "expects a mapping"),
])
def test_set_rejects_bad_values_with_a_clear_message(tmp_path, key, value, expected):
    s = Settings(str(tmp_path))
    with pytest.raises(SettingsError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        s.set(key, value)
    assert not (tmp_path / "config.yaml").exists()


def test_wrong_type_in_file_names_file_key_and_expectation(tmp_path):
    path = write_config(tmp_path, "serial:\n  baudrate: fast\n")
    with pytest.raises(SettingsError) as info:
        Settings(str(tmp_path))
    message = str(info.value)
    assert str(path) in message and "serial.baudrate" in message and "an integer" in message
    assert path.read_text() == "serial:\n  baudrate: fast\n"


def test_unknown_key_in_file_is_refused(tmp_path):
    write_config(tmp_path, "serial:\n  baudrat: 250000\n")
    with pytest.raises(SettingsError, match="unknown setting 'serial.baudrat'"):
        Settings(str(tmp_path))


def test_yaml_syntax_error_names_the_line(tmp_path):
    write_config(tmp_path, "serial:\n  baudrate: 250000\n  port: [unclosed\n")
    with pytest.raises(SettingsError, match=r"YAML syntax error at line \d+"):
        Settings(str(tmp_path))


def test_plugin_sections_are_free_form(tmp_path):
    write_config(tmp_path, "plugins:\n  myplugin:\n    anything: [1, 2]\n")
    s = Settings(str(tmp_path))
    assert s.get("plugins.myplugin.anything") == [1, 2]
    assert s.get("plugins.other.missing") is None
    s.set("plugins.myplugin.more", {"a": 1})
    assert Settings(str(tmp_path)).get("plugins.myplugin.more") == {"a": 1}


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    s = Settings(str(tmp_path))
    s.set("serial.baudrate", 250000)
    before = (tmp_path / "config.yaml").read_text()

    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        s.set("serial.baudrate", 57600)
    assert (tmp_path / "config.yaml").read_text() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_subscribers_hear_changes(tmp_path):
    s = Settings(str(tmp_path))
    heard = []
    s.subscribe("serial", lambda key, value: heard.append((key, value)))
    s.set("serial.log", True)
    s.set("server.port", 8080)
    assert heard == [("serial.log", True)]


def test_folder_is_created_inside_basedir(tmp_path):
    s = Settings(str(tmp_path))
    assert s.folder("uploads") == str(tmp_path / "uploads")
    assert (tmp_path / "uploads").is_dir()


def test_basedir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OCTOHOST_BASEDIR", str(tmp_path / "env"))
    assert Settings().basedir == str(tmp_path / "env")


def test_example_file_is_in_step_with_the_defaults():
    with open(os.path.join(ROOT, "config.yaml.example"), encoding="utf-8") as f:
        committed = f.read()
    assert committed == render_example(), "regenerate with: python -m octohost.settings.example > config.yaml.example"
    assert yaml.safe_load(committed) == defaults()


def test_config_numbers_out_of_range_are_refused(tmp_path):
    (tmp_path / "config.yaml").write_text("serial:\n  baudrate: 1" + "0" * 400 + "\n")
    with pytest.raises(SettingsError, match="at most"):
        Settings(str(tmp_path))
    settings_path = tmp_path / "other"
    settings = Settings(str(settings_path))
    with pytest.raises(SettingsError, match="at most"):
        settings.set("serial.timeout.detection", 1e300)
    with pytest.raises(SettingsError, match="switchInterval"):  # 0 would stop `serve` at its next start
        settings.set("server.switchInterval", 0)


def test_a_failed_save_changes_nothing(tmp_path, monkeypatch):
    import errno

    from octohost.settings import store

    settings = Settings(str(tmp_path))
    settings.set("serial.baudrate", 250000)
    seen = []
    settings.subscribe("serial", lambda key, value: seen.append(key))

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "atomic_write", disk_full)
    for attempt in (lambda: settings.set("serial.baudrate", 115200), lambda: settings.remove("serial.baudrate"),
                    lambda: settings.update([("serial.port", "/dev/x"), ("serial.baudrate", 9600)])):
        with pytest.raises(OSError):
            attempt()
        assert settings.get("serial.baudrate") == 250000 and settings.get("serial.port") != "/dev/x"
    assert seen == []
    monkeypatch.undo()
    assert Settings(str(tmp_path)).user_values() == settings.user_values()
    settings.update([("serial.port", "/dev/x"), ("serial.baudrate", 9600)])
    assert Settings(str(tmp_path)).get("serial.port") == "/dev/x" and seen == ["serial.port", "serial.baudrate"]


@pytest.mark.parametrize("key,value", [("serial.timeout.communication", 2**53 - 1), ("serial.timeout.resendOk", -1),
                                       ("server.workerThreads", 0), ("accessControl.sessionTimeout", 10**12),
                                       ("server.bodyTimeout", 1e9), ("server.port", 70000)])
def test_numbers_a_part_cannot_use_are_refused(tmp_path, key, value):
    # a 2^53 s timeout made the sender thread die with OverflowError in Event.wait
    settings = Settings(str(tmp_path))
    with pytest.raises(SettingsError, match="from"):
        settings.set(key, value)
    assert settings.user_values() == {}


def test_reads_do_not_rebuild_the_tree_and_follow_every_change(tmp_path, monkeypatch):
    """Views read settings on every request: a read walks a kept tree, a change replaces it."""
    from octohost.settings import schema

    s = Settings(str(tmp_path))
    s.get("server.port")
    builds = []
    original = schema.defaults

    def counting(*section):
        if not section:  # the whole tree (sections recurse with an argument)
            builds.append(1)
        return original(*section)

    monkeypatch.setattr(schema, "defaults", counting)
    for _ in range(50):
        assert s.get("server.allowCrossOrigin") is False
    assert builds == []
    s.set("server.port", 8080)
    assert s.get("server.port") == 8080
    s.remove("server.port")
    assert s.get("server.port") == 5000
    assert len(builds) == 2


def test_lists_and_dicts_read_are_copies(tmp_path):
    s = Settings(str(tmp_path))
    s.set("serial.additionalPorts", ["/dev/printer*"])
    s.get("serial.additionalPorts").append("/dev/other")
    s.get("serial").clear()
    s.effective()["serial"]["additionalPorts"].append("/dev/third")
    assert s.get("serial.additionalPorts") == ["/dev/printer*"]
    assert s.get("serial.baudrate") == 115200


@pytest.mark.parametrize("key", ["serial.rxBufferSize", "serial.virtual.rxBufferSize"])
def test_a_receive_buffer_too_small_for_any_line_is_refused(tmp_path, key):
    settings = Settings(str(tmp_path))
    for value in (0, -1, 8):
        with pytest.raises(SettingsError):
            settings.set(key, value)
    assert settings.set(key, 64) == 64
