"""AbstractAnalysisQueue: order, priority, dequeue, pause and failures, with a controllable analyser."""

import queue
import threading

import pytest

from octohost.files.analysis import AbstractAnalysisQueue, AnalysisAborted, AnalysisOutcome, QueueEntry

WAIT = 10


def entry(path):
    return QueueEntry(path, path, "gcode", "local", "/nowhere/" + path, None, None)


class GatedQueue(AbstractAnalysisQueue):
    """Analyses only when the test releases the gate; ``behaviour[path]`` can make it fail."""

    def __init__(self, finished_callback):
        super().__init__(finished_callback)
        self.gate = threading.Semaphore(0)
        self.started = queue.Queue()
        self.behaviour = {}
        self.aborts = 0

    def _do_analysis(self, entry, high_priority=False):
        self.started.put(entry.path)
        self.gate.acquire()
        action = self.behaviour.get(entry.path)
        if action is not None:
            raise action
        return {"estimatedPrintTime": float(len(entry.path)), "high": high_priority}

    def _do_abort(self):
        self.aborts += 1
        self.gate.release()


@pytest.fixture
def gated():
    results = queue.Queue()
    analysis_queue = GatedQueue(lambda e, outcome: results.put((e.path, outcome)))
    yield analysis_queue, results
    analysis_queue.shutdown()


def test_results_arrive_in_order_with_high_priority_first(gated):
    analysis_queue, results = gated
    analysis_queue.pause()
    analysis_queue.enqueue(entry("a"))
    analysis_queue.enqueue(entry("b"))
    analysis_queue.enqueue(entry("urgent"), high_priority=True)
    analysis_queue.resume()
    for _ in range(3):
        analysis_queue.gate.release()
    finished = [results.get(timeout=WAIT) for _ in range(3)]
    assert [path for path, _ in finished] == ["urgent", "a", "b"]
    assert isinstance(finished[0][1], AnalysisOutcome)
    assert finished[0][1].analysis == {"estimatedPrintTime": 6.0, "high": True}
    assert not analysis_queue.is_busy()


def test_dequeue_drops_queued_entries_and_aborts_the_running_one(gated):
    analysis_queue, results = gated
    analysis_queue.enqueue(entry("running"))
    assert analysis_queue.started.get(timeout=WAIT) == "running"
    analysis_queue.enqueue(entry("waiting"))
    analysis_queue.enqueue(entry("kept"))
    analysis_queue.dequeue(entry("waiting"))
    analysis_queue.dequeue(entry("running"))
    assert analysis_queue.aborts == 1
    assert analysis_queue.started.get(timeout=WAIT) == "kept"
    analysis_queue.gate.release()
    assert results.get(timeout=WAIT)[0] == "kept"
    assert results.empty()


def test_failures_and_unexpected_stops_are_reported_as_none(gated):
    analysis_queue, results = gated
    analysis_queue.behaviour = {"broken": ValueError("bad file"), "died": AnalysisAborted()}
    analysis_queue.enqueue(entry("broken"))
    analysis_queue.enqueue(entry("died"))
    analysis_queue.gate.release()
    analysis_queue.gate.release()
    assert results.get(timeout=WAIT) == ("broken", None)
    assert results.get(timeout=WAIT) == ("died", None)


def test_enqueueing_a_path_again_keeps_one_entry(gated):
    analysis_queue, results = gated
    analysis_queue.pause()
    analysis_queue.enqueue(entry("same"))
    analysis_queue.enqueue(entry("same"), high_priority=True)
    analysis_queue.resume()
    analysis_queue.gate.release()
    assert results.get(timeout=WAIT)[1].analysis["high"] is True
    analysis_queue.gate.release()
    with pytest.raises(queue.Empty):
        results.get(timeout=0.2)


def test_shutdown_stops_the_thread_and_refuses_new_work(gated):
    analysis_queue, results = gated
    analysis_queue.enqueue(entry("running"))
    analysis_queue.started.get(timeout=WAIT)
    analysis_queue.shutdown()
    assert analysis_queue._thread is not None and not analysis_queue._thread.is_alive()
    analysis_queue.enqueue(entry("late"))
    assert not analysis_queue.is_busy()
    assert results.empty()


def test_a_plain_dict_or_garbage_from_a_plugin_queue():
    assert AnalysisOutcome.wrap({"estimatedPrintTime": 1}).analysis == {"estimatedPrintTime": 1}
    assert AnalysisOutcome.wrap(None) is None
    with pytest.raises(TypeError):
        AnalysisOutcome.wrap(["not", "a", "dict"])
