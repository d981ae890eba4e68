"""The command processor on its own: where a command is checked and answered."""

import threading

from octohost.bridge.mqtt.commands import CommandProcessor, Services


class FakePrinter:
    def get_state_id(self):
        return "OPERATIONAL"

    def get_state_string(self):
        return "Operational"

    def is_ready(self):
        return False


def test_an_idle_processor_answers_on_the_arriving_thread_and_a_busy_one_queues():
    """ACCEPTED / REJECTED leave on the network thread while the worker is idle (no hop to
    another thread on a busy machine); behind a queued command, a message waits its turn so its
    check sees what the command before it did."""
    answers = []
    processor = CommandProcessor(Services(FakePrinter(), None, None),
                                 lambda event, cid, data: answers.append((event, cid, threading.current_thread())),
                                 enabled=True)  # the worker is never started: nothing runs
    here = threading.current_thread()
    processor.submit(b'{"id": "a", "command": "SEND_INFO"}')
    assert answers == [("ACCEPTED", "a", here)]
    processor.submit(b'{"id": "b", "command": "NO_SUCH"}')  # "a" waits for the worker: "b" waits behind it
    processor.submit(b'{"id": "c", "command": "START_PRINT", "args": {"path": "x.gcode"}}')
    assert answers == [("ACCEPTED", "a", here)]
    assert processor.received == 1


def test_an_idle_processor_rejects_at_once():
    answers = []
    processor = CommandProcessor(Services(FakePrinter(), None, None),
                                 lambda event, cid, data: answers.append((event, cid, data["reason"])), enabled=True)
    processor.submit(b'{"id": "a", "command": "START_PRINT", "args": {"path": "x.gcode"}}')
    processor.submit(b'{"id": "b", "command": "NO_SUCH"}')
    assert answers == [("REJECTED", "a", "wrong printer state: Operational"),
                       ("REJECTED", "b", "unknown command 'NO_SUCH'")]
