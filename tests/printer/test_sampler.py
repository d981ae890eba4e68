import threading
import time

from octohost.printer.sampler import CurrentDataSampler


def test_publishes_changes_only_and_respects_rate():
    value = {"n": 0}
    published = []
    done = threading.Event()

    def publish(data):
        published.append((time.monotonic(), data))
        if len(published) >= 4:
            done.set()

    sampler = CurrentDataSampler(lambda: dict(value), publish, interval=0.05)
    sampler.start()
    try:
        for i in range(1, 200):
            value["n"] = i
            sampler.trigger()
            if done.wait(0.002):
                break
        assert done.wait(5)
    finally:
        sampler.stop()
    gaps = [b[0] - a[0] for a, b in zip(published, published[1:], strict=False)]
    assert all(gap >= 0.05 * 0.9 for gap in gaps)
    assert len({p[1]["n"] for p in published}) == len(published)


def test_unchanged_data_is_not_republished_unless_triggered():
    published = []
    sampler = CurrentDataSampler(lambda: {"same": True}, published.append, interval=0.01)
    sampler.start()
    try:
        deadline = time.monotonic() + 5
        while not published and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        assert len(published) == 1
        sampler.trigger()
        deadline = time.monotonic() + 5
        while len(published) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(published) == 2
    finally:
        sampler.stop()
