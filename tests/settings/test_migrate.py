"""A newer octohost on an older base folder: versioned, stepwise, with the old files kept."""

import os

import pytest
import yaml

from octohost.settings import Settings, SettingsError
from octohost.settings.migrate import CURRENT, STEPS, Step, migrate_settings_file


def write(path, data):
    with open(path, "w") as f:
        yaml.safe_dump(data, f)


def read(path):
    with open(path) as f:
        return yaml.safe_load(f)


def test_an_unversioned_file_loads_and_the_next_save_records_the_version(tmp_path):
    write(tmp_path / "config.yaml", {"serial": {"baudrate": 250000}})
    settings = Settings(str(tmp_path))
    assert settings.get("serial.baudrate") == 250000
    settings.set("server.port", 5001)
    assert read(tmp_path / "config.yaml")["_config_version"] == CURRENT


def test_steps_run_in_order_and_keep_the_old_files(tmp_path):
    """A format change: a renamed setting and a renamed users field, the way a later step would do it."""
    config, users = tmp_path / "config.yaml", tmp_path / "users.yaml"
    write(config, {"serial": {"speed": 250000}})
    write(users, {"admin": {"password": "hash", "roles": ["admins"]}})

    def rename_speed(tree):
        tree["serial"]["baudrate"] = tree["serial"].pop("speed")
        return tree

    def roles_to_groups(table):
        return {name: {("groups" if k == "roles" else k): v for k, v in record.items()}
                for name, record in table.items()}

    steps = STEPS + (Step(CURRENT + 1, "serial.speed is serial.baudrate", rename_speed),
                     Step(CURRENT + 2, "users' roles are groups", users=roles_to_groups))
    assert migrate_settings_file(str(config), str(users), steps=steps) == 0
    assert read(config) == {"_config_version": CURRENT + 2, "serial": {"baudrate": 250000}}
    assert read(users) == {"admin": {"password": "hash", "groups": ["admins"]}}
    assert read(tmp_path / "config.yaml.v0.bak") == {"serial": {"speed": 250000}}
    assert read(tmp_path / "users.yaml.v0.bak") == {"admin": {"password": "hash", "roles": ["admins"]}}
    # run again: already current, nothing changes, the backups stay as they were
    assert migrate_settings_file(str(config), str(users), steps=steps) == CURRENT + 2


def test_a_base_folder_from_a_newer_octohost_is_refused_untouched(tmp_path):
    write(tmp_path / "config.yaml", {"_config_version": CURRENT + 1, "serial": {"baudrate": 250000}})
    before = (tmp_path / "config.yaml").read_bytes()
    with pytest.raises(SettingsError, match="written by a newer octohost"):
        Settings(str(tmp_path))
    assert (tmp_path / "config.yaml").read_bytes() == before
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".bak")]


@pytest.mark.parametrize("value", ["1", -1, True, 1.5])
def test_a_bad_version_is_refused(tmp_path, value):
    write(tmp_path / "config.yaml", {"_config_version": value})
    with pytest.raises(SettingsError, match="_config_version"):
        Settings(str(tmp_path))
