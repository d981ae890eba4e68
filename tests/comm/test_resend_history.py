import pytest

from octohost.comm.history import ResendHistory


def test_keeps_the_last_capacity_lines():
    history = ResendHistory(4)
    for n in range(1, 11):
        history.add(n, b"line %d" % n, n * 10)
    assert history.get(6) is None
    assert [history.get(n) for n in (7, 10)] == [(b"line 7", 70), (b"line 10", 100)]
    assert history.get(11) is None and history.get(-1) is None


def test_line_number_reuse_after_reset_replaces_entries():
    history = ResendHistory(8)
    history.add(3, b"old")
    history.clear()
    assert history.get(3) is None
    history.add(3, b"new")
    assert history.get(3) == (b"new", None)


def test_needs_room():
    with pytest.raises(ValueError):
        ResendHistory(0)
