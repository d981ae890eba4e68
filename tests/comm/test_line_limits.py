"""Commands with line breaks or too long for the firmware's receive buffer, over a real pseudo-terminal.

Before these were handled, either one made the firmware ask for the same line again and again
until the host gave up and closed the connection (and the print).
"""

import pytest

from octohost.comm.linelimit import CommandTooLong, max_command_length, split_lines

LONG = "M117 " + "x" * 200


def test_split_lines():
    assert split_lines("  M117 a \n\r\nM117 b\rG28  ") == ["M117 a", "M117 b", "G28"]
    assert split_lines(" G28 ") == ["G28"]
    assert split_lines(" \r\n ") == []


def test_max_command_length_leaves_room_for_line_number_and_checksum():
    # "N10 " and "*255\n" around the command
    assert max_command_length(128, 1) == 128 - 4 - 5
    assert max_command_length(128, 123) == 128 - len("N1230 ") - 5
    assert max_command_length(128, 5, numbered=False) == 127


def wait_operational_and_idle(comm, wait_for):
    wait_for(lambda: comm.get_state() == "OPERATIONAL" and not comm.sender.in_flight(), message="idle")


@pytest.mark.parametrize("separator", ["\n", "\r", "\r\n"])
def test_a_command_with_a_line_break_is_sent_as_two_commands(pty_printer, machine, wait_for, separator):
    server = pty_printer()
    comm, recorder = machine(port=server.path)
    assert comm.send_command(f"M117 first{separator}M117 second")
    wait_for(lambda: "M117 second" in server.printer.accepted, message="second line accepted")
    accepted = server.printer.accepted
    assert accepted.index("M117 first") + 1 == accepted.index("M117 second")
    assert comm.get_state() == "OPERATIONAL"
    assert comm.resend_stats()["count"] == 0
    assert not [line for line in recorder.log if "Resend" in line or "Error:" in line]


def test_a_command_too_long_for_the_receive_buffer_is_refused_and_the_connection_lives(pty_printer, machine,
                                                                                       wait_for):
    server = pty_printer()
    comm, recorder = machine(port=server.path)
    with pytest.raises(CommandTooLong, match="rxBufferSize"):
        comm.command_lines(LONG)
    assert comm.send_command(LONG) is False
    assert comm.send_command("M117 after")
    wait_for(lambda: "M117 after" in server.printer.accepted, message="the next command")
    assert not any(line.startswith("M117 xx") for line in server.printer.accepted)
    assert any("rxBufferSize" in line for line in recorder.log)
    assert comm.get_state() == "OPERATIONAL" and comm.resend_stats()["count"] == 0
    # the longest command that fits goes through unharmed
    longest = "M117 " + "y" * (comm._command_limit() - 5)
    assert comm.send_command(longest)
    wait_for(lambda: longest in server.printer.accepted, message="the longest command")
    assert comm.resend_stats()["count"] == 0


def test_a_plugin_rewrite_with_a_line_break_is_not_sent(pty_printer, machine, wait_for, plugins):
    manager = plugins({"breaker.py": '''
        import octohost.plugin

        def rewrite(comm, phase, cmd, cmd_type, gcode, *args, **kwargs):
            if cmd == "M117 rewrite me":
                return "M117 one\\nM117 two"

        __plugin_hooks__ = {"octoprint.comm.protocol.gcode.queuing": rewrite}
    '''})
    server = pty_printer()
    comm, recorder = machine(port=server.path, plugin_manager=manager)
    comm.send_command("M117 rewrite me")
    comm.send_command("M117 after")
    wait_for(lambda: "M117 after" in server.printer.accepted, message="the next command")
    assert not [line for line in server.printer.accepted if line.startswith(("M117 one", "M117 two"))]
    assert comm.get_state() == "OPERATIONAL" and comm.resend_stats()["count"] == 0


def test_a_print_skips_an_over_long_file_line_and_splits_one_with_a_carriage_return(pty_printer, machine, tmp_path,
                                                                                   wait_for, write_gcode):
    path = tmp_path / "part.gcode"
    commands = write_gcode(path, 300, extra={100: LONG, 200: "M117 left\rM117 right"})
    server = pty_printer()
    comm, recorder = machine(port=server.path, options={"window": "rx-bytes"})
    assert comm.select_file(str(path), False)
    assert comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_done") or comm.is_error(), timeout=60, message="job done")
    assert not comm.is_error(), comm.get_error()
    accepted = server.printer.accepted
    assert [line for line in accepted if line.startswith("G1 ")] == commands
    assert accepted.index("M117 left") + 1 == accepted.index("M117 right")
    assert not any(line.startswith("M117 xx") for line in accepted)
    assert any(line.startswith("Skipped the command at byte") for line in recorder.log)
    assert comm.resend_stats()["count"] == 0
    status = comm.get_job_status()
    assert status["acked_filepos"] == status["size"]
