import yaml

from octohost.printer.recovery import PrintRecovery


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
