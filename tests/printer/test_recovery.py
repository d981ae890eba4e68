import threading

import pytest
import yaml

from octohost.printer import recovery as recovery_module
from octohost.printer.recovery import PrintRecovery, RecoveryWriter

from support import WaitTimeout, wait_until
from support.stores import while_a_write_hangs


def test_record_read_and_clear(tmp_path):
    recovery = PrintRecovery(str(tmp_path))
    assert recovery.get_recovery_data() is None
    assert recovery.record("folder/part.gcode", "local", 1234) is True
    assert recovery.record("folder/part.gcode", "local", 1234) is False
    data = recovery.get_recovery_data()
    assert (data["path"], data["origin"], data["pos"]) == ("folder/part.gcode", "local", 1234)
    recovery.record("folder/part.gcode", "local", 2000, reason="paused")
    assert PrintRecovery(str(tmp_path)).get_recovery_data()["pos"] == 2000
    recovery.clear()
    assert recovery.get_recovery_data() is None
    assert list(tmp_path.iterdir()) == []


def test_corrupt_file_is_no_recovery(tmp_path):
    (tmp_path / "print_recovery.yaml").write_text("{{{")
    assert PrintRecovery(str(tmp_path)).get_recovery_data() is None
    (tmp_path / "print_recovery.yaml").write_text(yaml.safe_dump(["x"]))
    assert PrintRecovery(str(tmp_path)).get_recovery_data() is None



def test_reads_come_from_memory_but_see_another_processs_record(tmp_path, monkeypatch):
    recovery = PrintRecovery(str(tmp_path))
    recovery.record("a.gcode", "local", 10)
    opened = []
    real_open = open

    def spying_open(file, *args, **kwargs):
        if file == recovery.path:
            opened.append(file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spying_open)
    for _ in range(3):
        assert recovery.get_recovery_data()["pos"] == 10
    recovery.get_recovery_data()["pos"] = 99  # a copy each time
    assert recovery.get_recovery_data()["pos"] == 10
    assert opened == []  # what this process wrote is known without reading it back
    PrintRecovery(str(tmp_path)).record("b.gcode", "local", 20)  # as another process (octohost print) would
    assert recovery.get_recovery_data()["path"] == "b.gcode"
    assert len(opened) == 1


def test_a_read_does_not_wait_for_a_record_being_written(tmp_path, monkeypatch):
    recovery = PrintRecovery(str(tmp_path))
    recovery.record("a.gcode", "local", 10)
    found = while_a_write_hangs(monkeypatch, recovery_module, lambda: recovery.record("a.gcode", "local", 20),
                                recovery.get_recovery_data)
    assert found["pos"] == 10
    assert recovery.get_recovery_data()["pos"] == 20

class SlowRecovery(PrintRecovery):
    """Counts the writes and can hold one on the disk, like a slow SD card."""

    def __init__(self, folder):
        super().__init__(folder)
        self.writes = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def record(self, path, origin, pos, reason=None):
        self.entered.set()
        self.gate.wait(10)
        self.writes.append(pos)
        return super().record(path, origin, pos, reason)


def test_writer_keeps_only_the_newest_position_while_the_disk_is_busy(tmp_path):
    recovery = SlowRecovery(str(tmp_path))
    writer = RecoveryWriter(recovery, interval=0.0)
    try:
        recovery.gate.clear()
        writer.record("a.gcode", "local", 1)
        assert recovery.entered.wait(5)  # the first write is on the (slow) disk
        for pos in range(2, 1000):
            writer.record("a.gcode", "local", pos)  # returns at once, whatever the disk does
        recovery.gate.set()
        assert writer.flush()
        assert recovery.writes == [1, 999]
        assert recovery.get_recovery_data()["pos"] == 999
    finally:
        writer.close()


def test_writer_writes_routine_positions_at_most_every_interval_and_stops_at_once(tmp_path):
    recovery = SlowRecovery(str(tmp_path))
    writer = RecoveryWriter(recovery, interval=60.0)
    try:
        writer.record("a.gcode", "local", 10)
        wait_until(lambda: recovery.writes == [10])
        writer.record("a.gcode", "local", 20)
        writer.record("a.gcode", "local", 30)
        with pytest.raises(WaitTimeout):  # not due for a minute
            wait_until(lambda: len(recovery.writes) > 1, timeout=0.3)
        writer.record("a.gcode", "local", 35, reason="pause", urgent=True)
        wait_until(lambda: recovery.writes == [10, 35])
        assert writer.flush() and recovery.get_recovery_data()["reason"] == "pause"
        writer.record("a.gcode", "local", 40)
        writer.clear()  # the newest request wins: the waiting position is not written after it
        assert writer.flush()
        assert recovery.get_recovery_data() is None and recovery.writes == [10, 35]
    finally:
        writer.close()


def test_close_writes_what_waits(tmp_path):
    recovery = PrintRecovery(str(tmp_path))
    writer = RecoveryWriter(recovery, interval=60.0)
    writer.record("a.gcode", "local", 10)
    writer.record("a.gcode", "local", 20)
    writer.close()
    assert recovery.get_recovery_data()["pos"] == 20
