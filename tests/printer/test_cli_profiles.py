import yaml
from click.testing import CliRunner

from octohost.cli import cli


def run(tmp_path, *args):
    return CliRunner().invoke(cli, ["--basedir", str(tmp_path), "profiles", *args])


def test_add_list_show_select_remove(tmp_path):
    source = tmp_path / "mk3.yaml"
    source.write_text(yaml.safe_dump({"id": "mk3", "name": "Prusa MK3", "extruder": {"count": 1}}))
    result = run(tmp_path, "add", str(source))
    assert result.exit_code == 0, result.output
    assert "Added printer profile mk3" in result.output
    listing = run(tmp_path, "list").output.splitlines()
    assert listing[0].startswith("* _default") and listing[1].startswith("  mk3\tPrusa MK3")
    shown = yaml.safe_load(run(tmp_path, "show", "mk3").output)
    assert shown["name"] == "Prusa MK3" and shown["axes"]["z"]["speed"] == 200
    assert run(tmp_path, "select", "mk3").exit_code == 0
    assert run(tmp_path, "list").output.splitlines()[1].startswith("* mk3")
    refused = run(tmp_path, "remove", "mk3")
    assert refused.exit_code == 2 and "default" in refused.output
    assert run(tmp_path, "select", "_default").exit_code == 0
    assert run(tmp_path, "remove", "mk3").exit_code == 0
    assert "mk3" not in run(tmp_path, "list").output


def test_bad_input_exits_2_with_message(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"id": "bad", "name": "Bad", "extruder": {"count": "two"}}))
    result = run(tmp_path, "add", str(bad))
    assert result.exit_code == 2 and "extruder.count" in result.output
    assert "bad" not in run(tmp_path, "list").output
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed")
    assert run(tmp_path, "add", str(broken)).exit_code == 2
    assert run(tmp_path, "add", str(tmp_path / "missing.yaml")).exit_code == 2
    assert "no printer profile" in run(tmp_path, "show", "nope").output
    assert run(tmp_path, "select", "nope").exit_code == 2
    assert run(tmp_path, "remove", "nope").exit_code == 2
    source = tmp_path / "dup.yaml"
    source.write_text(yaml.safe_dump({"id": "dup", "name": "Dup"}))
    assert run(tmp_path, "add", str(source)).exit_code == 0
    assert run(tmp_path, "add", str(source)).exit_code == 2
    assert run(tmp_path, "add", "--overwrite", str(source)).exit_code == 0
