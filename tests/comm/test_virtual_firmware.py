"""The virtual firmware without threads or clocks: simulated time is whatever the test says."""

import pytest

from octohost.comm.virtual import VirtualOptions
from octohost.comm.virtual.firmware import Firmware


class RecordingBoard:
    """The board as the firmware sees it, recording what it would send."""

    def __init__(self):
        self.sent = []
        self.freed = 0
        self.resets = 0
        self.disconnects = 0
        self.discarded = 0

    def emit(self, line):
        self.sent.append(line)

    def acknowledge(self, text):
        self.freed += 1
        if text is not None:
            self.sent.append(text)

    def pending_count(self):
        return 0

    def discard_received(self):
        self.discarded += 1

    def firmware_reset(self):
        self.resets += 1

    def disconnect(self):
        self.disconnects += 1

    def take(self):
        sent, self.sent = self.sent, []
        return sent


@pytest.fixture
def firmware():
    def make(**options):
        board = RecordingBoard()
        fw = Firmware(VirtualOptions(**options), board)
        fw.reset()
        board.take()
        return fw, board

    return make


def test_m109_reports_once_per_simulated_second_until_within_the_window(firmware):
    fw, board = firmware(heat_rate=10.0, wait_report_interval=1.0, temperature_window=1.0, busy_protocol=False)
    fw.receive("M109 S100")
    assert fw.blocked and board.take() == []
    seconds = 0
    while fw.blocked:
        seconds += 1
        fw.advance(float(seconds))
    sent = board.take()
    # 21.3 -> 99.0 at 10 degC/s takes 7.77 s: the wait ends at the 8th second, after that second's report
    assert [line.split(" ")[0] for line in sent[:-1]] == [f"T:{min(21.3 + 10 * s, 100):.1f}" for s in range(1, 9)]
    assert all(line.endswith("/100.0 B:21.0 /0.0 @:127 B@:0 W:?") for line in sent[:-2])
    assert sent[-1] == "ok" and seconds == 8


def test_next_event_says_when_the_wait_ends(firmware):
    fw, board = firmware(heat_rate=10.0, wait_report_interval=100.0, busy_protocol=False)
    fw.receive("M190 S60")
    eta = fw.next_event()
    assert eta == pytest.approx((59.0 - 21.0) / 10.0)
    fw.advance(eta)
    assert not fw.blocked and board.take() == ["ok"]


def test_m190_r_also_waits_for_cooling(firmware):
    fw, board = firmware(heat_rate=10.0, wait_report_interval=100.0)
    fw.receive("M140 S80")
    fw.advance(10.0)
    fw.receive("M190 R40")
    assert fw.blocked
    fw.advance(10.0 + (80 - 41) / 10.0)
    assert not fw.blocked


def test_m109_s_does_not_wait_for_cooling(firmware):
    fw, board = firmware(heat_rate=10.0)
    fw.receive("M104 S200")
    fw.advance(100.0)
    board.take()
    fw.receive("M109 S150")
    assert not fw.blocked and board.take() == ["ok"]


def test_temperature_autoreport_interval(firmware):
    fw, board = firmware()
    fw.receive("M155 S2")
    board.take()
    for second in range(1, 7):
        fw.advance(float(second))
    assert len([line for line in board.take() if line.startswith("T:")]) == 3


def test_sd_print_advances_with_simulated_time(firmware):
    fw, board = firmware(sd_files={"a.gco": b"x" * 1000}, sd_print_rate=100.0)
    fw.receive("M23 a.gco")
    fw.receive("M24")
    fw.advance(4.0)
    board.take()
    fw.receive("M27")
    assert board.take() == ["SD printing byte 400/1000", "ok"]
    fw.advance(10.0)
    assert board.take() == ["Done printing file"]


def test_dwell_holds_the_queue_with_busy_messages(firmware):
    fw, board = firmware(busy_interval=2.0)
    fw.receive("G4 S5")
    for second in range(1, 6):
        fw.advance(float(second))
    assert board.take() == ["echo:busy: processing", "echo:busy: processing", "ok"]


def test_heating_waits_send_keepalives_besides_their_temperature_reports(firmware):
    """Marlin's BUSY_WHILE_HEATING (on by default): M109/M190 also say "busy: processing"."""
    fw, board = firmware(heat_rate=10.0, wait_report_interval=1.0, busy_interval=2.0)
    fw.receive("M109 S100")
    for second in range(1, 9):
        fw.advance(float(second))
    sent = board.take()
    assert [line for line in sent if "busy" in line] == ["echo:busy: processing"] * 4
    assert len([line for line in sent if line.startswith("T:")]) == 8 and sent[-1] == "ok"


def test_m0_waits_for_the_user_saying_so_until_m108(firmware):
    fw, board = firmware(busy_interval=2.0)
    fw.receive("M0")
    assert fw.blocked and fw.next_event() == 2.0
    for second in range(1, 5):
        fw.advance(float(second))
    assert board.take() == ["echo:busy: paused for user"] * 2
    fw.emergency("M108")
    fw.advance(4.5)
    assert not fw.blocked and board.take() == ["ok"]
    fw.receive("M1 S3")
    fw.advance(7.5)
    assert not fw.blocked and board.take() == ["echo:busy: paused for user", "ok"]


def test_m113_s0_switches_the_keepalive_off(firmware):
    fw, board = firmware(busy_interval=2.0)
    fw.receive("M113 S0")
    fw.receive("G4 S5")
    for second in range(1, 6):
        fw.advance(float(second))
    assert board.take() == ["ok", "ok"]


def test_m113_changes_the_busy_interval(firmware):
    fw, board = firmware()
    fw.receive("M113 S1")
    fw.receive("M113")
    assert board.take() == ["ok", "echo:M113 S1", "ok"]


def test_every_line_frees_its_rx_bytes_exactly_once(firmware):
    fw, board = firmware(seed=9, checksum_error_rate=0.3, lost_ok_rate=0.3)
    lines = ["M110 N0", "N1 G1 X1*99", "G1 X2", "garbage here", "N5 G1*1", "*7"]
    for line in lines:
        fw.receive(line)
    assert board.freed == len(lines)


def test_line_errors_flush_the_rx_buffer_only_when_asked(firmware):
    fw, board = firmware()
    fw.receive("N5 G1 X1*0")
    assert board.discarded == 0
    fw, board = firmware(flush_rx_on_error=True)
    fw.receive("N5 G1 X1*0")
    fw.receive("G1 X1")
    assert board.discarded == 1


def test_reset_and_disconnect_faults_fire_once(firmware):
    fw, board = firmware(reset_after_lines=2, disconnect_after_lines=4)
    for n in range(6):
        fw.receive(f"G1 X{n}")
    assert board.resets == 1 and board.disconnects == 1


def test_a_late_look_at_the_clock_adds_no_keepalive_after_a_timed_wait_ended(firmware):
    fw, board = firmware(busy_interval=2.0)
    fw.receive("G4 S1")
    fw.advance(5.0)  # the board looked at the clock late: the dwell ended at 1 s, before any keepalive was due
    assert board.take() == ["ok"]
