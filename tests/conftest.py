"""Fixtures every test package shares; their code lives in ``tests/support/`` (as ``support``).

pytest puts ``tests/`` on ``sys.path`` for this file (rootdir-relative "prepend" import mode, no
``__init__.py``), which is what makes ``from support import wait_until`` work in every package.
A package's own conftest.py may override a fixture here with a narrower one.
"""

import logging

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


class _Refusals(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture(autouse=True)
def no_refused_comm_transitions():
    """No test may drive the comm layer into a state change its transition table refuses.

    The state machine refuses and logs such a change rather than raising (a raise on a comm
    thread could stop a print); here every refusal fails the test that caused it.
    """
    refusals = _Refusals()
    logger = logging.getLogger("octohost.comm.states")
    logger.addHandler(refusals)
    try:
        yield refusals
    finally:
        logger.removeHandler(refusals)
    assert not refusals.messages, f"refused comm state changes: {refusals.messages}"


@pytest.fixture(scope="session")
def camera_frames(tmp_path_factory):
    """Distinct JPEGs made by ffmpeg once per run (support.camera)."""
    from support.camera import make_jpegs

    return make_jpegs(str(tmp_path_factory.mktemp("camera")))


@pytest.fixture
def camera(camera_frames):
    """A test camera (HTTP on 127.0.0.1) serving a different JPEG per snapshot; closed after."""
    from support.camera import TestCamera

    test_camera = TestCamera(camera_frames)
    yield test_camera
    test_camera.close()
