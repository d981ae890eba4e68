"""Helpers shared by every test package (importable as ``support``: ``tests/`` is on ``sys.path``).

Like Moonraker's ``tests/fixtures/``: the code lives here, and ``tests/conftest.py`` turns the
parts every package needs into fixtures.
"""

from .wait import WaitTimeout, wait_until

__all__ = ["WaitTimeout", "wait_until"]
