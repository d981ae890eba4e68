import pytest

from octohost.comm.window import ADVANCED_OK, PING_PONG, RX_BYTES, Window


def fill(window, sizes, start=1):
    sent = 0
    for number, size in enumerate(sizes, start):
        if not window.can_send(size):
            break
        window.sent(number, size)
        sent += 1
    return sent


def test_ping_pong_allows_one_line():
    window = Window(PING_PONG)
    assert fill(window, [10, 10, 10]) == 1
    assert window.acked()[0] == 1
    assert window.can_send(10)


def test_rx_bytes_counts_bytes_in_flight():
    window = Window(RX_BYTES, rx_buffer_size=100)
    assert fill(window, [40, 40, 40]) == 2
    assert window.bytes_in_flight == 80
    window.acked()
    assert window.can_send(60) and not window.can_send(61)


def test_rx_bytes_always_lets_one_oversized_line_through():
    window = Window(RX_BYTES, rx_buffer_size=16)
    assert window.can_send(40)


def test_lines_in_flight_never_exceed_the_history():
    window = Window(RX_BYTES, rx_buffer_size=10_000, max_lines=3)
    assert fill(window, [5] * 10) == 3


def test_advanced_ok_starts_as_ping_pong_then_fills_the_rx_buffer():
    window = Window(ADVANCED_OK, rx_buffer_size=100)
    assert fill(window, [10, 10]) == 1
    window.acked({"N": 1, "P": 15, "B": 3})
    assert fill(window, [40] * 5, start=2) == 2  # nothing known in the command queue: 100 bytes


def test_advanced_ok_lines_in_the_command_queue_free_the_rx_buffer():
    window = Window(ADVANCED_OK, rx_buffer_size=100)
    window.sent(1, 10)
    window.acked({"N": 1, "B": 3})  # the largest B seen: a queue of four at least
    assert fill(window, [40] * 5, start=2) == 2
    window.acked({"N": 2, "B": 2})  # the queue held 2 and 3: line 3 left the RX buffer
    assert window.queued == 1
    assert fill(window, [40] * 5, start=4) == 2  # 4 and 5 fit beside the queued line 3
    assert not window.can_send(40)
    window.acked({"N": 3, "B": 0})  # 4, 5 and 6 would be queued; 4 and 5 are in flight
    assert window.queued == 3
    assert window.can_send(100)


def test_advanced_ok_forgets_queued_lines_when_a_timeout_drops_probes():
    window = Window(ADVANCED_OK, rx_buffer_size=100)
    window.typed_oks = True
    window.sent(1, 10)
    window.acked({"N": 1, "B": 3})
    window.sent(2, 40)
    window.sent(-1, 10, probe=True)
    window.sent(3, 40)
    window.acked({"N": 2, "B": 1})  # the probe and line 3 were queued
    assert window.queued == 2
    window.timed_out()  # the probe is dropped: line 3 might be back in the RX buffer's count
    assert window.queued == 0
    assert not window.can_send(61)


def test_queued_lines_never_count_more_than_the_largest_b_allows():
    assert Window.queued_lines(3, 3) == 0
    assert Window.queued_lines(0, 3) == 3
    assert Window.queued_lines(5, 3) == 0


def test_advanced_ok_line_numbers_settle_lost_oks():
    window = Window(ADVANCED_OK, rx_buffer_size=1000)
    window.free_slots = 4
    fill(window, [10, 10, 10])
    # the ok for line 1 got lost; the ok for line 2 says so
    assert window.acked({"N": 2, "B": 3})[0] == 2
    assert [entry[0] for entry in window.in_flight] == [3]


def test_advanced_ok_does_not_settle_lines_sent_after_a_rewind():
    window = Window(ADVANCED_OK, rx_buffer_size=1000)
    window.free_slots = 8
    for number in (5, 6, 7, 5, 6, 7):  # 5 rejected, 6 and 7 discarded, then resent
        window.sent(number, 10)
    window.acked({"N": 4, "B": 3})  # the ok after "Resend: 5"
    assert [e[0] for e in window.in_flight] == [6, 7, 5, 6, 7]


def test_timeout_drops_the_oldest_while_oks_cannot_be_told_apart():
    window = Window(RX_BYTES)
    fill(window, [10, 10])
    assert window.timed_out()[0] == 1
    assert len(window) == 1


def test_with_typed_oks_a_timeout_keeps_job_lines_and_drops_only_probes():
    window = Window(PING_PONG)
    window.typed_oks = True
    window.sent(5, 40)
    assert window.timed_out() is None
    window.sent(6, 12, probe=True)  # the tickle
    assert window.timed_out() is None
    assert [entry[0] for entry in window.in_flight] == [5]


def test_late_job_ok_and_tickle_ok_each_settle_their_own():
    window = Window(PING_PONG)
    window.typed_oks = True
    window.sent(5, 40)
    window.timed_out()
    window.sent(6, 12, probe=True)
    assert window.acked({})[0] == 5  # the late ok of the job line
    assert window.acked({"temperatures": {}})[0] == 6
    assert not window.in_flight
    window.sent(7, 40)
    assert window.acked({"temperatures": {}}) is None  # a stray tickle answer grants nothing
    assert [entry[0] for entry in window.in_flight] == [7]


def test_a_tickle_answer_settles_a_job_line_whose_ok_was_lost():
    window = Window(PING_PONG)
    window.typed_oks = True
    window.sent(5, 40)
    window.sent(6, 12, probe=True)
    assert window.acked({"temperatures": {}})[0] == 6
    assert not window.in_flight


def test_settling_job_lines_with_a_later_answer_reports_the_furthest_file_position():
    """The host's acknowledged file position comes from what the window returns: a tickle answer
    (or a line error's Last Line, or an advanced ok's N) that settles job lines must report them,
    not the tickle; else a print whose last ok was lost ends short of its file (a CI flake)."""
    window = Window(PING_PONG)
    window.typed_oks = True
    window.sent(5, 40, filepos=120)
    window.sent(6, 40, filepos=160)  # the last line of the file; its ok is lost
    window.sent(7, 12, probe=True)  # the tickle after the timeout
    settled = window.acked({"temperatures": {}})
    assert settled[2] == 160 and not window.in_flight
    window.sent(8, 40, filepos=200)
    window.sent(9, 12)  # a user's command, no file position
    assert window.settle_through(9)[2] == 200
    advanced = Window(ADVANCED_OK)
    advanced.sent(10, 40, filepos=240)
    advanced.sent(11, 12)
    assert advanced.acked({"N": 11, "B": 3})[2] == 240


def test_the_ok_after_a_resend_request_settles_the_oldest_transmission_whatever_it_was():
    window = Window(PING_PONG)
    window.typed_oks = True
    window.sent(9, 12, probe=True)  # a tickle the firmware rejected
    window.rejections += 1
    assert window.acked({})[0] == 9
    assert not window.in_flight and not window.rejections


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="ping-pong"):
        Window("fast")


def test_last_line_of_a_line_error_settles_lost_oks():
    window = Window(RX_BYTES, rx_buffer_size=1000)
    for number in (7, 8, 9):  # the ok of 7 got lost, 8 was accepted and answered, 9 was rejected
        window.sent(number, 10)
    window.acked()  # the ok of 8 settles the oldest entry
    assert window.settle_through(8)[0] == 8
    assert [entry[0] for entry in window.in_flight] == [9]
    assert window.settle_through(8) is None


def test_a_fake_ok_settles_the_oldest_transmission_even_a_probe():
    window = Window(PING_PONG)
    window.typed_oks = True
    window.sent(9, 12, probe=True)
    assert window.acked({}) is None  # a plain ok is no answer to a probe
    assert window.acked({}, oldest=True)[0] == 9
