"""``octoprint.util`` and friends behave as plugins written for OctoPrint expect."""

import threading
import time

import pytest

from support import wait_until


def test_repeated_timer_repeats_until_cancelled_and_reports_it():
    from octoprint.util import RepeatedTimer

    calls, cancelled = [], threading.Event()
    timer = RepeatedTimer(0.01, lambda: calls.append(1), on_cancelled=cancelled.set)
    timer.start()
    wait_until(lambda: len(calls) >= 3, timeout=5, message="three runs")
    timer.cancel()
    timer.join(5)
    assert cancelled.is_set() and not timer.is_alive()


def test_repeated_timer_stops_when_its_condition_turns_false():
    from octoprint.util import RepeatedTimer

    calls, stopped = [], threading.Event()
    timer = RepeatedTimer(0.01, lambda: calls.append(1), condition=lambda: len(calls) < 2,
                          on_condition_false=stopped.set)
    timer.start()
    timer.join(5)
    assert calls == [1, 1] and stopped.is_set()


def test_resettable_timer_fires_once_after_the_last_reset():
    from octoprint.util import ResettableTimer

    fired = []
    timer = ResettableTimer(0.2, lambda: fired.append(time.monotonic()))
    started = time.monotonic()
    timer.start()
    time.sleep(0.1)
    timer.reset()
    timer.join(5)
    assert len(fired) == 1 and fired[0] - started >= 0.29


def test_text_and_dict_helpers():
    from octoprint.util import dict_merge, monotonic_time, to_bytes, to_unicode

    assert to_unicode(b"caf\xc3\xa9") == "café" and to_unicode("x") == "x"
    assert to_unicode(b"\xff", errors="replace") == "\ufffd"
    assert to_bytes("é") == b"\xc3\xa9"
    a = {"a": {"b": 1, "c": 2}, "l": [1]}
    assert dict_merge(a, {"a": {"c": 3}, "d": 4}) == {"a": {"b": 1, "c": 3}, "l": [1], "d": 4}
    assert a == {"a": {"b": 1, "c": 2}, "l": [1]}
    assert monotonic_time() <= monotonic_time()


@pytest.mark.parametrize("entry,expected", [(">=1.4.0", True), ("1.11.x", True), ("1.3.x", False),
                                            (">=2", False), ("1.4", True), ("not a version", False)])
def test_octoprint_version_checks(entry, expected):
    from octoprint.util.version import is_octoprint_compatible

    assert is_octoprint_compatible(entry) is expected


def test_permissions_know_only_registered_keys():
    from octoprint.access.permissions import Permissions

    assert Permissions.SETTINGS.key == "SETTINGS"
    assert not Permissions.SETTINGS.can()  # outside a request
    assert not hasattr(Permissions, "PLUGIN_NOBODY_HERE")


def test_events_carry_octoprints_names():
    from octoprint.events import Events

    assert (Events.PRINT_DONE, Events.FILE_ADDED, Events.DISCONNECTED) == ("PrintDone", "FileAdded", "Disconnected")
