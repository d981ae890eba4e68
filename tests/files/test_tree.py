"""octohost.files.tree: iterative walks that open folders relative to each other."""

import os
import stat

import pytest

from octohost.files import tree


@pytest.fixture
def sample(tmp_path):
    """top/{a.gcode, .hidden, sub/{b.gcode, deeper/c.gcode}, link -> sub, outside -> /}"""
    top = tmp_path / "top"
    (top / "sub" / "deeper").mkdir(parents=True)
    (top / "a.gcode").write_bytes(b"A")
    (top / ".hidden").write_bytes(b"H")
    (top / "sub" / "b.gcode").write_bytes(b"BB")
    (top / "sub" / "deeper" / "c.gcode").write_bytes(b"CCC")
    os.chmod(top / "sub" / "b.gcode", 0o600)
    os.utime(top / "sub" / "b.gcode", ns=(1_000_000_000, 2_000_000_000))
    os.symlink("sub", top / "link")
    os.symlink("/", top / "outside")
    return top


def entered(top, **kwargs):
    return {parts: (sorted(folders), sorted(others))
            for event, parts, _fd, folders, others in tree.walk(str(top), **kwargs) if event == tree.ENTER}


def test_walk_names_folders_and_the_rest_and_never_follows_links(sample):
    assert entered(sample) == {
        (): (["sub"], [".hidden", "a.gcode", "link", "outside"]),
        ("sub",): (["deeper"], ["b.gcode"]),
        ("sub", "deeper"): ([], ["c.gcode"]),
    }


def test_walk_leaves_each_folder_below_top_once_after_its_content(sample):
    events = [(event, parts) for event, parts, _fd, _f, _o in tree.walk(str(sample))]
    assert events == [(tree.ENTER, ()), (tree.ENTER, ("sub",)), (tree.ENTER, ("sub", "deeper")),
                      (tree.LEAVE, ("sub", "deeper")), (tree.LEAVE, ("sub",))]


def test_walk_stops_at_max_depth_and_the_caller_can_prune(sample):
    assert list(entered(sample, max_depth=1)) == [(), ("sub",)]
    assert list(entered(sample, max_depth=0)) == [()]
    steps = tree.walk(str(sample))
    for _event, parts, _fd, folders, _others in steps:
        if parts == ():
            folders.clear()
        else:
            raise AssertionError(f"entered {parts} after pruning")


def test_walk_refuses_to_climb_into_a_folder_it_did_not_come_from(tmp_path):
    (tmp_path / "top" / "a" / "b").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    steps = tree.walk(str(tmp_path / "top"))
    for _event, parts, _fd, _folders, _others in steps:
        if parts == ("a", "b"):
            os.rename(tmp_path / "top" / "a" / "b", tmp_path / "elsewhere" / "b")
            with pytest.raises(tree.TreeChanged):
                next(steps)
            break


def test_copy_tree_keeps_content_modes_times_and_links(sample, tmp_path):
    copy = tmp_path / "copy"
    tree.copy_tree(str(sample), str(copy))
    assert entered(copy) == entered(sample)
    assert (copy / "sub" / "deeper" / "c.gcode").read_bytes() == b"CCC"
    st = os.stat(copy / "sub" / "b.gcode")
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_mtime_ns == 2_000_000_000
    assert os.readlink(copy / "link") == "sub" and os.readlink(copy / "outside") == "/"
    assert os.stat(copy / "sub").st_mtime_ns == os.stat(sample / "sub").st_mtime_ns


def test_remove_tree_removes_links_not_their_targets(sample, tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.gcode").write_bytes(b"K")
    os.symlink(str(target), sample / "sub" / "to_target")
    tree.remove_tree(str(sample))
    assert not sample.exists()
    assert (target / "keep.gcode").read_bytes() == b"K"


def test_remove_tree_removes_what_it_can_and_then_raises(sample, monkeypatch):
    unlink = os.unlink

    def refuse_c(name, *args, **kwargs):
        if name == "c.gcode":
            raise PermissionError(1, "Operation not permitted", name)
        return unlink(name, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", refuse_c)
    with pytest.raises(PermissionError):
        tree.remove_tree(str(sample))
    assert sorted(os.listdir(sample)) == ["sub"]
    assert os.listdir(sample / "sub") == ["deeper"]


def test_extent_counts_levels_and_bytes_up_to_one_past_the_limit(sample):
    assert tree.extent(str(sample), 10) == (3, len("sub/deeper/c.gcode"))
    assert tree.extent(str(sample), 1)[0] == 2
    visible = tree.extent(str(sample), 10, include=lambda name: name != "sub")
    assert visible == (1, len("outside"))
