"""Fixtures every test package shares; their code lives in ``tests/support/`` (as ``support``).

pytest puts ``tests/`` on ``sys.path`` for this file (rootdir-relative "prepend" import mode, no
``__init__.py``), which is what makes ``from support import wait_until`` work in every package.
A package's own conftest.py may override a fixture here with a narrower one.
"""

import pytest

from octohost.events import EventBus
from octohost.settings import Settings


@pytest.fixture
def settings(tmp_path):
    """Settings in an empty base folder of the test's own."""
    return Settings(str(tmp_path / "base"))


@pytest.fixture
def event_bus():
    """An event bus, closed after the test."""
    bus = EventBus()
    yield bus
    bus.close()
