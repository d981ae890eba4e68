"""The event queue on its own: numbering, the bounded offline buffer, in-order hand-over."""

import json
import logging
import threading

from octohost.bridge.mqtt.outbox import EventOutbox

from support import wait_until


def seqs(payloads):
    return [json.loads(p)["seq"] for p in payloads]


class Client:
    """Stands in for paho: records what it is handed and gives each message an id."""

    def __init__(self):
        self.sent = []
        self.threads = []  # the thread that handed each over
        self.lock = threading.Lock()

    def send(self, payload):
        with self.lock:
            self.sent.append(payload)
            self.threads.append(threading.current_thread())
            return len(self.sent)


def start_pump(outbox, client):
    """The outbox's pump thread, handing events to ``client``."""
    pump = threading.Thread(target=outbox.pump, args=(client.send,), daemon=True)
    pump.start()
    return pump


def test_offline_buffer_drops_the_oldest_and_counts(caplog):
    outbox = EventOutbox(capacity=3)
    with caplog.at_level(logging.WARNING, "octohost.bridge.mqtt.outbox"):
        for i in range(5):
            assert outbox.put("E", "test", "OPERATIONAL", {"i": i}) == i + 1
    assert outbox.dropped == 2 and outbox.queued == 3 and outbox.last_seq == 5
    assert len([r for r in caplog.records if "dropped the oldest" in r.getMessage()]) == 1
    client = Client()
    pump = start_pump(outbox, client)
    outbox.set_connected(True)
    wait_until(lambda: len(client.sent) == 3, message="the three kept events")
    assert seqs(client.sent) == [3, 4, 5]
    assert json.loads(client.sent[0]) | {"ts": 0} == {"ts": 0, "seq": 3, "event": "E", "source": "test",
                                                       "state": "OPERATIONAL", "data": {"i": 2}}
    outbox.close()
    pump.join(5)


def test_in_order_window_and_acknowledgements():
    outbox = EventOutbox(capacity=100, window=2)
    client = Client()
    pump = start_pump(outbox, client)
    for _ in range(5):
        outbox.put("E", "test", None)
    assert client.sent == []  # nothing is handed over while disconnected
    outbox.set_connected(True)
    wait_until(lambda: len(client.sent) == 2, message="a window's worth")
    outbox.acknowledged(2)
    wait_until(lambda: len(client.sent) == 3, message="one more after an acknowledgement")
    outbox.set_connected(False)
    outbox.acknowledged(1)
    outbox.acknowledged(3)
    assert len(client.sent) == 3 and outbox.queued == 2 and outbox.delivered == 3
    outbox.acknowledged(99)  # an id that is not an event's (telemetry): ignored
    outbox.set_connected(True)
    wait_until(lambda: len(client.sent) == 5, message="the rest after reconnecting")
    assert seqs(client.sent) == [1, 2, 3, 4, 5]
    outbox.acknowledged(4)
    outbox.acknowledged(5)
    assert outbox.wait_drained(5) and outbox.queued == 0
    outbox.close()
    pump.join(5)


def test_the_queuing_thread_hands_an_event_over_when_nothing_waits():
    """An ACCEPTED queued on paho's network thread leaves with that thread's next write, without
    waking the pump thread first."""
    outbox = EventOutbox(capacity=100, window=2)
    client = Client()
    pump = start_pump(outbox, client)
    outbox.set_connected(True)
    outbox.put("E", "test", None)
    wait_until(lambda: outbox.queued == 1 and len(client.sent) == 1, message="the pump running")
    outbox.acknowledged(1)
    outbox.put("ACCEPTED", "mqtt", None)
    assert client.threads[1:] == [threading.current_thread()]  # handed over before put returned
    outbox.put("E", "test", None)
    outbox.put("E", "test", None)  # the window (2) is full: this one waits for an acknowledgement
    assert len(client.sent) == 3
    outbox.acknowledged(2)
    wait_until(lambda: len(client.sent) == 4, message="the fourth after an acknowledgement")
    assert client.threads[3] is pump
    outbox.close()
    pump.join(5)


def test_waiting_for_the_broker_to_acknowledge_an_event():
    """What an accepted command does before it runs: its ACCEPTED first reaches the broker."""
    outbox = EventOutbox(capacity=100, window=5)
    client = Client()
    pump = start_pump(outbox, client)
    first, second = outbox.put("E", "test", None), outbox.put("ACCEPTED", "mqtt", None)
    assert not outbox.wait_acknowledged(second, 0.05)  # the broker is away
    outbox.set_connected(True)
    wait_until(lambda: len(client.sent) == 2, message="both handed over")
    assert not outbox.wait_acknowledged(second, 0.05)  # handed over, not acknowledged
    threading.Timer(0.1, outbox.acknowledged, args=(2,)).start()
    assert outbox.wait_acknowledged(second, 10)
    assert not outbox.wait_acknowledged(first, 0.01)  # acknowledgements can come out of order
    outbox.close()
    pump.join(5)


def test_order_holds_with_many_threads_queuing():
    outbox = EventOutbox(capacity=10000, window=5)
    client = Client()
    pump = start_pump(outbox, client)
    outbox.set_connected(True)
    stop = threading.Event()

    def acknowledge():  # the broker, acknowledging whatever was handed over
        done = 0
        while not stop.is_set() or done < len(client.sent):
            with client.lock:
                handed = len(client.sent)
            for mid in range(done + 1, handed + 1):
                outbox.acknowledged(mid)
            done = handed

    broker = threading.Thread(target=acknowledge, daemon=True)
    broker.start()
    putters = [threading.Thread(target=lambda: [outbox.put("E", "test", None) for _ in range(300)]) for _ in range(4)]
    for thread in putters:
        thread.start()
    for thread in putters:
        thread.join()
    wait_until(lambda: len(client.sent) == 1200, message="every event handed over")
    stop.set()
    broker.join(5)
    assert seqs(client.sent) == list(range(1, 1201))
    assert outbox.wait_drained(5)
    outbox.close()
    pump.join(5)


def test_bridges_start_their_reconnect_backoff_at_different_delays(tmp_path):
    """A farm's daemons must not all retry a restarted broker at the same instants."""
    from octohost.bridge.mqtt.bridge import MqttBridge
    from octohost.bridge.mqtt.config import MqttConfig
    from octohost.settings import Settings

    config = MqttConfig.from_settings(Settings(str(tmp_path)))
    delays = [MqttBridge(config, None, None, None, None, reconnect_delay=(0.5, 5.0)).reconnect_delay
              for _ in range(20)]
    assert all(0.5 <= shortest <= 0.75 and longest == 5.0 for shortest, longest in delays)
    assert len({shortest for shortest, _ in delays}) > 10
