from octohost.comm.sendqueue import Command, SendQueue


def test_fifo_and_one_command_per_type():
    queue = SendQueue()
    assert queue.put(Command("G28"))
    assert queue.put(Command("M105", cmd_type="temperature_poll"))
    assert not queue.put(Command("M105", cmd_type="temperature_poll"))
    assert queue.put(Command("M27", cmd_type="sd_status_poll"))
    assert [queue.get().cmd for _ in range(3)] == ["G28", "M105", "M27"]
    assert queue.get() is None
    assert queue.put(Command("M105", cmd_type="temperature_poll"))  # the type is free again


def test_file_line_tags_are_built_on_demand():
    command = Command("G1 X1", filepos=120, fileend=130)
    assert command.gcode == "G1"
    assert command.tags == {"source:file", "filepos:120"}
    assert Command("M105").tags == set()


def test_clear_frees_types():
    queue = SendQueue()
    queue.put(Command("M105", cmd_type="temperature_poll"))
    queue.clear()
    assert not queue and queue.put(Command("M105", cmd_type="temperature_poll"))
