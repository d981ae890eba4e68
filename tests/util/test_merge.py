"""octohost.util.merge: the one deep merge that settings and printer profiles share."""

from octohost.util.merge import deep_merge, merge_into


def test_nested_dicts_merge_key_by_key_and_other_values_replace():
    base = {"a": {"x": 1, "y": {"deep": 1, "keep": True}}, "b": [1, 2], "c": "old"}
    merged = deep_merge(base, {"a": {"y": {"deep": 2}, "z": 3}, "b": [3], "c": {"now": "a dict"}})
    assert merged == {"a": {"x": 1, "y": {"deep": 2, "keep": True}, "z": 3}, "b": [3], "c": {"now": "a dict"}}


def test_deep_merge_changes_neither_argument_and_shares_nothing_with_them():
    base = {"a": {"list": [1]}}
    override = {"b": {"list": [2]}}
    merged = deep_merge(base, override)
    merged["a"]["list"].append(9)
    merged["b"]["list"].append(9)
    assert base == {"a": {"list": [1]}} and override == {"b": {"list": [2]}}


def test_merge_into_changes_the_target_only_and_accepts_no_override():
    target = {"a": {"x": 1}}
    override = {"a": {"y": [1]}}
    assert merge_into(target, override) is target
    target["a"]["y"].append(2)
    assert target == {"a": {"x": 1, "y": [1, 2]}} and override == {"a": {"y": [1]}}
    assert merge_into(target, None) == {"a": {"x": 1, "y": [1, 2]}}
