"""support.wait_until, the one way the tests wait."""

import pytest

from support import WaitTimeout, wait_until


def test_returns_the_first_true_value():
    values = iter([0, None, "", {"ready": True}])
    assert wait_until(lambda: next(values), timeout=5, interval=0) == {"ready": True}


def test_a_condition_that_already_holds_passes_even_with_no_time_left():
    assert wait_until(lambda: 42, timeout=0) == 42


def test_a_timeout_fails_the_test_naming_what_was_awaited_and_the_last_value():
    states = iter(["connecting", "connecting", "closed"] + [""] * 1000)
    last = []

    def operational():
        last[:] = [next(states)]
        return last[0] == "operational" and last[0]

    with pytest.raises(AssertionError) as failure:  # WaitTimeout is an AssertionError: a failed check
        wait_until(operational, timeout=0.05, interval=0.01, message=lambda: f"operational, was {last[0]!r}")
    assert failure.type is WaitTimeout
    assert str(failure.value) == "timed out after 0.05 s waiting for operational, was ''; last value: False"


def test_without_a_message_the_predicate_is_named():
    def printer_ready():
        return []

    with pytest.raises(WaitTimeout, match=r"waiting for .*printer_ready; last value: \[\]$"):
        wait_until(printer_ready, timeout=0.02, interval=0.01)


def test_ignored_exceptions_count_as_not_yet_and_show_as_the_last_value():
    attempts = iter([ConnectionError("refused"), ConnectionError("refused"), "up"])

    def server():
        outcome = next(attempts)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert wait_until(server, timeout=5, interval=0, ignore=(ConnectionError,)) == "up"

    def refused():
        raise ConnectionError("refused")

    with pytest.raises(WaitTimeout, match=r"last value: ConnectionError\('refused'\)$"):
        wait_until(refused, timeout=0.02, interval=0.01, ignore=(ConnectionError,))


def test_other_exceptions_propagate_at_once():
    calls = []

    def broken():
        calls.append(1)
        raise KeyError("state")

    with pytest.raises(KeyError):
        wait_until(broken, timeout=5, ignore=(ConnectionError,))
    assert len(calls) == 1


class Pending:
    """Not there yet (false), with a long description."""

    def __bool__(self):
        return False

    def __repr__(self):
        return "Pending(" + "x" * 10_000 + ")"


def test_a_long_last_value_is_cut_short():
    with pytest.raises(WaitTimeout, match=r"last value: Pending\(x+\.\.\.$") as failure:
        wait_until(Pending, timeout=0.01, interval=0.01)
    assert len(str(failure.value)) < 700
