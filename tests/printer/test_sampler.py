import threading
import time

from octohost.printer.sampler import CurrentDataSampler

from support import wait_until


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
    samples = []

    def collect():
        samples.append(time.monotonic())
        return {"same": True}

    sampler = CurrentDataSampler(collect, published.append, interval=0.01)
    sampler.start()
    try:
        wait_until(lambda: published, message="the first publication")
        taken = len(samples)
        wait_until(lambda: len(samples) >= taken + 10, message="ten more samples")
        assert len(published) == 1
        sampler.trigger()
        wait_until(lambda: len(published) == 2, message="a triggered publication")
    finally:
        sampler.stop()
