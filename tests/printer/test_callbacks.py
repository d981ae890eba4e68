import threading

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


def test_lazy_lines_wait_for_their_deadline_and_are_never_lost(monkeypatch):
    from octohost.printer import callbacks

    monkeypatch.setattr(callbacks, "LAZY_SECONDS", 0.05)
    dispatcher = CallbackDispatcher()
    try:
        recorder = Recorder()
        dispatcher.register(recorder)
        for i in range(3):
            dispatcher.post_lazy("on_printer_add_log", f"line {i}")
        wait_until(lambda: len(recorder.calls) == 3, message=lambda: f"the lazy lines; got {recorder.calls}")
        assert recorder.calls == [("log", f"line {i}") for i in range(3)]
    finally:
        dispatcher.close()


def test_anything_posted_the_usual_way_takes_the_waiting_lazy_lines_along_in_order(monkeypatch):
    from octohost.printer import callbacks

    monkeypatch.setattr(callbacks, "LAZY_SECONDS", 3600)  # only an urgent post can deliver them in this test
    dispatcher = CallbackDispatcher()
    try:
        recorder = Recorder()
        dispatcher.register(recorder)
        dispatcher.post_lazy("on_printer_add_log", "Send: G28")
        dispatcher.post_lazy("on_printer_add_log", "Recv: ok")
        assert not dispatcher.wait_idle(timeout=0.2)  # still waiting for the deadline
        assert recorder.calls == []
        dispatcher.post("on_printer_add_log", "urgent")
        assert dispatcher.wait_idle()
        assert recorder.calls == [("log", "Send: G28"), ("log", "Recv: ok"), ("log", "urgent")]
        dispatcher.post_lazy("on_printer_add_log", "Send: M105")
        assert not dispatcher.wait_idle(timeout=0.2)
        dispatcher.post_current({"state": "Printing"})  # current data is urgent too, and comes after the lines
        assert dispatcher.wait_idle()
        assert recorder.calls[3:] == [("log", "Send: M105"), ("current", {"state": "Printing"})]
    finally:
        dispatcher.close()
