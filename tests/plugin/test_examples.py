"""The example plugins in examples/plugins/ load and do what the README says they do."""

import os
import shutil

import pytest
from click.testing import CliRunner

from octohost.cli import cli

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "plugins")


@pytest.fixture
def examples_installed(settings):
    for name in os.listdir(EXAMPLES):
        if name.endswith(".py"):
            shutil.copy(os.path.join(EXAMPLES, name), settings.folder("plugins"))
    return settings


def test_examples_load_without_errors(examples_installed, manager_for):
    pm = manager_for()
    assert {pid: info.error for pid, info in pm.plugins.items() if not info.loaded} == {}
    assert sorted(pm.plugins) == ["greet_cli", "layer_display", "rewrite_m107"]


def test_queuing_chain_of_the_examples(examples_installed, manager_for):
    pm = manager_for()
    handlers = pm.handlers("comm.protocol.gcode.queuing")
    assert [pid for pid, _ in handlers] == ["layer_display", "rewrite_m107"]
    _, layer = handlers[0]
    assert layer(None, "queuing", "@layer 12", None, None, subcode=None, tags=set()) == [("M117 Layer 12",)]
    _, rewrite = handlers[1]
    assert rewrite(None, "queuing", "M107", None, "M107", subcode=None, tags=set()) == ("M106 S0",)
    assert rewrite(None, "queuing", "G28", None, "G28", subcode=None, tags=set()) is None


def test_greet_command(examples_installed):
    result = CliRunner().invoke(cli, ["--basedir", examples_installed.basedir, "plugins", "greet_cli:greet", "Ada"])
    assert result.exit_code == 0 and result.output == "Hello Ada!\n"
