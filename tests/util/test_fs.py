"""Atomic writes and the clean-up of the temp files an interrupted one leaves."""

import os

from octohost.util.fs import atomic_write, remove_stale_temp_files


def test_only_our_temp_files_are_removed(tmp_path):
    atomic_write(str(tmp_path / "config.yaml"), "a: 1\n")
    ours = [".config.yaml.k2x_9abq.tmp", ".users.yaml.0a1b2c3d.tmp"]
    kept = ["config.yaml", "config.yaml.tmp", ".config.yaml.tmp", ".upload-abcdefgh.tmp", "part.abcdefgh.tmp",
            ".config.yaml.ABCDEFGH.tmp", ".x.abcdefg.tmp"]
    for name in ours + kept[1:]:
        (tmp_path / name).write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".metadata.json.abcdefgh.tmp").write_text("x")
    removed = remove_stale_temp_files(str(tmp_path))
    assert sorted(os.path.basename(p) for p in removed) == sorted(ours)
    assert sorted(os.listdir(tmp_path)) == sorted(kept + ["sub"])
    assert remove_stale_temp_files(str(tmp_path / "sub"))
    assert remove_stale_temp_files(str(tmp_path / "missing")) == []
