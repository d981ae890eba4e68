"""Backoff with jitter and the circuit breaker, on a clock the test moves."""

import random

from octohost.machine.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, Policy
from octohost.machine.reconnect import CONNECTED, CONNECTING, IDLE, WAITING, Reconnector, Target


def test_delays_grow_exponentially_up_to_the_cap_without_jitter():
    breaker = CircuitBreaker(Policy(initial=1.0, multiplier=2.0, maximum=5.0, jitter=0.0, threshold=0))
    delays = []
    for _ in range(5):
        breaker.failure(0.0)
        delays.append(breaker.delay())
    assert delays == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_jitter_spreads_delays_within_the_fraction():
    breaker = CircuitBreaker(Policy(initial=10.0, jitter=0.2, threshold=0), rng=random.Random(1))
    breaker.failure(0.0)
    delays = {breaker.delay() for _ in range(50)}
    assert all(8.0 <= delay <= 12.0 for delay in delays)
    assert len(delays) > 40  # not in lockstep


def test_the_circuit_opens_at_the_threshold_then_half_opens_for_one_probe():
    breaker = CircuitBreaker(Policy(initial=1.0, jitter=0.0, threshold=3, open_seconds=60.0))
    for now in (0.0, 1.0, 3.0):
        assert breaker.allow(now)
        breaker.failure(now)
    assert breaker.state == OPEN
    assert not breaker.allow(62.9)
    assert breaker.next_attempt(3.0) == 63.0
    assert breaker.allow(63.0) and breaker.state == HALF_OPEN
    breaker.failure(63.5)  # the probe failed: open again for the whole time
    assert breaker.state == OPEN and not breaker.allow(100.0) and breaker.allow(123.5)
    breaker.success()
    assert breaker.state == CLOSED and breaker.failures == 0 and breaker.delay() == 0.0


def test_reconnector_only_reconnects_after_a_connection_was_up_and_never_after_a_disarm():
    reconnector = Reconnector(Policy(initial=1.0, jitter=0.0, threshold=0), stable_seconds=5.0)
    reconnector.user_connect(Target("/dev/ttyACM0", 115200))
    assert not reconnector.lost(0.0)  # the first connect failed: a person must look
    assert reconnector.state == IDLE
    reconnector.connected(10.0, "/dev/ttyACM0", 115200)
    assert reconnector.lost(11.0) and reconnector.state == WAITING
    assert reconnector.due(11.5) is None
    target = reconnector.due(12.0)
    assert target is not None and target.port == "/dev/ttyACM0" and reconnector.state == CONNECTING
    assert reconnector.attempt == 1
    reconnector.disarm()  # someone disconnected
    assert not reconnector.lost(13.0) and reconnector.due(100.0) is None


def test_the_autoconnect_at_start_keeps_trying_until_the_printer_answers():
    reconnector = Reconnector(Policy(initial=1.0, jitter=0.0, threshold=0), stable_seconds=5.0)
    reconnector.user_connect(Target("/dev/ttyACM0", 115200), keep_trying=True)
    assert reconnector.lost(0.0) and reconnector.state == WAITING  # switched off: try again
    assert reconnector.due(1.0).port == "/dev/ttyACM0"
    assert reconnector.lost(1.0)  # still off
    reconnector.user_connect(Target("/dev/ttyACM0", 115200))  # a person's connect: given up when it fails
    assert not reconnector.lost(2.0)
    disabled = Reconnector(Policy(initial=1.0, jitter=0.0, threshold=0), stable_seconds=5.0, enabled=False)
    disabled.user_connect(Target("/dev/ttyACM0", 115200), keep_trying=True)
    assert not disabled.lost(0.0)  # serial.reconnect.enabled false: never


def test_a_flapping_connection_counts_as_failing_until_it_stays_up():
    reconnector = Reconnector(Policy(initial=1.0, jitter=0.0, threshold=3, open_seconds=30.0), stable_seconds=5.0)
    reconnector.connected(0.0, "p", 115200)
    reconnector.due(10.0)  # stable: success
    now = 10.0
    for _ in range(2):  # up, then down within a second, twice
        reconnector.lost(now)
        now += 10.0
        assert reconnector.due(now) is not None
        reconnector.connected(now, "p", 115200)
        now += 0.5
        reconnector.due(now)
    reconnector.lost(now)  # the third flap opens the circuit
    assert reconnector.breaker.state == OPEN
    assert reconnector.due(now + 29.0) is None
    assert reconnector.due(now + 30.0) is not None and reconnector.breaker.state == "half-open"
    now += 30.0
    reconnector.connected(now, "p", 115200)
    assert reconnector.state == CONNECTED
    reconnector.due(now + 5.0)
    assert reconnector.breaker.state == CLOSED
