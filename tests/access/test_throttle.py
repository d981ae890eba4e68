"""Login back-off: exponential and bounded, per (user, address) and, looser, per address."""

from octohost.access.throttle import LoginThrottle


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def fail(throttle, user, address, times):
    for _ in range(times):
        assert throttle.retry_after(user, address) == 0
        throttle.failed(user, address)


def test_free_tries_then_doubling_waits_up_to_the_maximum():
    clock = Clock()
    throttle = LoginThrottle(free_tries=3, address_free_tries=100, first_delay=1, max_delay=60, clock=clock)
    fail(throttle, "admin", "10.0.0.9", 2)
    assert throttle.retry_after("admin", "10.0.0.9") == 0
    waits = []
    for _ in range(10):
        throttle.failed("admin", "10.0.0.9")
        waits.append(throttle.retry_after("admin", "10.0.0.9"))
        clock.now += waits[-1]
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60, 60]


def test_other_addresses_and_users_are_not_locked_out():
    clock = Clock()
    throttle = LoginThrottle(free_tries=3, address_free_tries=10, clock=clock)
    fail(throttle, "admin", "10.0.0.9", 3)
    assert throttle.retry_after("admin", "10.0.0.9") > 0
    assert throttle.retry_after("admin", "192.168.1.2") == 0
    assert throttle.retry_after("bob", "10.0.0.9") == 0


def test_spraying_user_names_from_one_address_is_slowed_too():
    clock = Clock()
    throttle = LoginThrottle(free_tries=3, address_free_tries=10, clock=clock)
    for n in range(10):
        fail(throttle, f"user{n}", "10.0.0.9", 1)
    assert throttle.retry_after("anyone", "10.0.0.9") > 0
    assert throttle.retry_after("anyone", "10.0.0.10") == 0


def test_success_and_quiet_time_clear_the_counter():
    clock = Clock()
    throttle = LoginThrottle(free_tries=2, forget_after=600, clock=clock)
    fail(throttle, "admin", "a", 1)
    throttle.succeeded("admin", "a")
    fail(throttle, "admin", "a", 2)
    assert throttle.retry_after("admin", "a") > 0
    clock.now += 601
    assert throttle.retry_after("admin", "a") == 0
    fail(throttle, "admin", "a", 2)


def test_memory_is_bounded():
    throttle = LoginThrottle(max_entries=100, clock=Clock())
    for n in range(1000):
        throttle.failed(f"u{n}", f"10.0.{n // 256}.{n % 256}")
    assert len(throttle) <= 100
