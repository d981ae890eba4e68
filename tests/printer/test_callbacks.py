import threading
import time

from octohost.printer.callbacks import CallbackDispatcher
from octohost.printer.interface import PrinterCallback

from support import wait_until


class Recorder(PrinterCallback):
    def __init__(self, gate=None):
        self.calls = []
        self.gate = gate

    def on_printer_add_log(self, data):
        if self.gate is not None:
            self.gate.wait(5)
        self.calls.append(("log", data))

    def on_printer_send_initial_data(self, data):
        self.calls.append(("initial", data))

    def on_printer_send_current_data(self, data):
        self.calls.append(("current", data))


def test_initial_first_then_in_order():
    dispatcher = CallbackDispatcher()
    try:
        recorder = Recorder()
        dispatcher.register(recorder, initial_data={"logs": []})
        for i in range(5):
            dispatcher.post("on_printer_add_log", f"line {i}")
        assert dispatcher.wait_idle()
        assert recorder.calls == [("initial", {"logs": []})] + [("log", f"line {i}") for i in range(5)]
    finally:
        dispatcher.close()


def test_slow_callback_does_not_delay_others_and_current_data_coalesces():
    dispatcher = CallbackDispatcher()
    gate = threading.Event()
    try:
        slow, fast = Recorder(gate), Recorder()
        dispatcher.register(slow)
        dispatcher.register(fast)
        dispatcher.post("on_printer_add_log", "first")
        for i in range(50):
            dispatcher.post_current({"n": i})
        wait_until(lambda: ("current", {"n": 49}) in fast.calls, message=lambda: f"the last update; got {fast.calls}")
        assert fast.calls[0] == ("log", "first") and ("current", {"n": 49}) in fast.calls
        assert slow.calls == []
        gate.set()
        assert dispatcher.wait_idle()
        assert slow.calls == [("log", "first"), ("current", {"n": 49})]
    finally:
        gate.set()
        dispatcher.close()


def test_raising_callback_is_isolated_and_unregister_stops_delivery():
    class Broken(PrinterCallback):
        def on_printer_add_message(self, data):
            raise RuntimeError("boom")

    dispatcher = CallbackDispatcher()
    try:
        broken, recorder = Broken(), Recorder()
        dispatcher.register(broken)
        dispatcher.register(recorder)
        dispatcher.post("on_printer_add_message", "x")
        dispatcher.post("on_printer_add_log", "y")
        assert dispatcher.wait_idle()
        dispatcher.unregister(recorder)
        dispatcher.post("on_printer_add_log", "z")
        assert dispatcher.wait_idle()
        assert recorder.calls == [("log", "y")]
    finally:
        dispatcher.close()


class Stamped(PrinterCallback):
    def __init__(self):
        self.arrivals = []  # (monotonic time, data)

    def on_printer_add_log(self, data):
        self.arrivals.append((time.monotonic(), data))


def test_a_stream_is_delivered_in_batches_at_most_every_interval():
    """A burst of terminal lines wakes the callback's thread once per interval, not once per line."""
    dispatcher = CallbackDispatcher(interval=0.3)
    try:
        recorder = Stamped()
        dispatcher.register(recorder)
        dispatcher.post("on_printer_add_log", "first")
        wait_until(lambda: recorder.arrivals)
        for i in range(200):
            dispatcher.post("on_printer_add_log", f"line {i}")
        assert dispatcher.wait_idle()
        assert [data for _, data in recorder.arrivals] == ["first"] + [f"line {i}" for i in range(200)]
        first = recorder.arrivals[0][0]
        # nothing after the first delivery came before the interval was over: the 200 waited for one batch
        assert min(at for at, _ in recorder.arrivals[1:]) - first >= 0.3 * 0.9
    finally:
        dispatcher.close()


def test_after_a_quiet_spell_a_post_is_delivered_at_once_and_stop_cuts_the_wait_short():
    dispatcher = CallbackDispatcher(interval=30)
    try:
        recorder = Stamped()
        dispatcher.register(recorder)
        posted = time.monotonic()
        dispatcher.post("on_printer_add_log", "alone")
        wait_until(lambda: recorder.arrivals, timeout=10)
        assert recorder.arrivals[0][0] - posted < 10  # not the 30 s interval
        dispatcher.post("on_printer_add_log", "waits for the interval")
    finally:
        stopping = time.monotonic()
        dispatcher.close()
    assert time.monotonic() - stopping < 10
    assert not [t for t in threading.enumerate() if t.name == "octohost.printer.callback.Stamped"]
    assert [data for _, data in recorder.arrivals] == ["alone"]
