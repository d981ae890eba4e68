"""Bounds on parsed client input: nesting depth without recursion, number magnitude."""

import json

import pytest

from octohost.util import limits


def nested(depth, open_="[", close="]"):
    return (open_ * depth + close * depth).encode()


def test_depth_limit_is_exact():
    assert not limits.too_deep(nested(limits.MAX_DEPTH))
    assert limits.too_deep(nested(limits.MAX_DEPTH + 1))
    assert limits.too_deep(b'{"a": [' * 17 + b"1" + b"]}" * 17)
    assert limits.loads(b'{"a": [' * 16 + b"1" + b"]}" * 16)


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"a": "[" * 5000, "b": '\\"[[[[' * 100, "c": ["{" * 100]}).encode()
    assert not limits.too_deep(text)
    assert limits.loads(text)["a"] == "[" * 5000


def test_escaped_backslash_before_a_quote_ends_the_string():
    text = b'["x\\\\", ' + b"[" * 40 + b"]" * 40 + b"]"
    assert json.loads(text)  # valid JSON, 42 levels deep
    assert limits.too_deep(text)


def test_a_megabyte_of_nesting_is_refused_without_recursing():
    with pytest.raises(limits.InputLimitError, match="nested"):
        limits.loads(b"[" * 500_000 + b"]" * 500_000)
    with pytest.raises(ValueError):
        limits.loads(b'{"a":' * 200_000)


@pytest.mark.parametrize("literal", ["1" + "0" * 400, "-" + "9" * 30, "1e400", "-1e300", str(2**53)])
def test_numbers_out_of_range_are_refused(literal):
    with pytest.raises(limits.InputLimitError, match="out of range"):
        limits.loads(f'{{"x": {literal}}}')


def test_numbers_in_range_and_constants():
    assert limits.loads(f"[{limits.MAX_NUMBER}, -{limits.MAX_NUMBER}, 1.5e10]") == [2**53 - 1, 1 - 2**53, 1.5e10]
    with pytest.raises(ValueError):
        limits.loads("[NaN]")
    assert not limits.number_in_range(True) and not limits.number_in_range(float("inf"))
