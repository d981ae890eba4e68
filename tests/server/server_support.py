"""Helpers shared by the server tests."""

import time


def wait_until(predicate, timeout=30):
    """Poll ``predicate`` until it returns something true and return that, or fail the test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")
