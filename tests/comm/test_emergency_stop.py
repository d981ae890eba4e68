"""M112 over a real pseudo-terminal: at once, then a halted printer and a closed port, never "Cancelling"."""

from octohost.comm.machine import EMERGENCY_STOP


def start_long_print(comm, recorder, tmp_path, write_gcode, wait_for):
    write_gcode(tmp_path / "part.gcode", 20000)
    assert comm.select_file(str(tmp_path / "part.gcode"), False)
    assert comm.start_print()
    wait_for(lambda: (comm.get_job_status()["acked_filepos"] or 0) > 1000, message="printing")


def test_m112_during_a_print_halts_cancels_the_job_and_closes_the_port(pty_printer, machine, tmp_path, wait_for,
                                                                       write_gcode):
    server = pty_printer(ok_delay=0.001)
    comm, recorder = machine(port=server.path, options={"window": "rx-bytes"})
    start_long_print(comm, recorder, tmp_path, write_gcode, wait_for)
    for n in range(150):
        comm.send_command(f"M117 queued {n}")
    assert comm.send_command("M112")
    wait_for(lambda: server.printer.firmware.halted, timeout=2, message="firmware halted")
    assert comm.get_state() == "CLOSED_WITH_ERROR"
    assert comm.get_error() == EMERGENCY_STOP
    assert "M117 queued 149" not in server.printer.accepted  # M112 overtook what was queued
    [cancelled] = recorder.named("on_comm_print_job_cancelled")
    assert ("reason", "Cancelled by an emergency stop (M112)") in cancelled
    assert not recorder.named("on_comm_print_job_failed")
    assert not recorder.named("on_comm_record_fileposition")  # nothing to resume
    assert "CANCELLING" not in recorder.states
    assert any(line.startswith("Send: M104") or " M104 " in line for line in recorder.log)  # heaters off


def test_m112_when_idle_closes_the_port(pty_printer, machine, wait_for):
    server = pty_printer()
    comm, recorder = machine(port=server.path)
    assert comm.send_command("M112")
    assert comm.get_state() == "CLOSED_WITH_ERROR" and comm.get_error() == EMERGENCY_STOP
    wait_for(lambda: server.printer.firmware.halted, timeout=2, message="firmware halted")
    assert comm.send_command("M117 too late") is False


def test_a_new_connection_after_m112_works(machine, wait_for):
    """The in-process port makes a fresh board per connection, as the reset on opening a USB port does."""
    comm, _ = machine()
    assert comm.send_command("M112")
    comm.close()
    again, _ = machine()
    assert again.send_command("M117 after")
    wait_for(lambda: "M117 after" in again.get_transport().accepted, message="a command after reconnecting")


def test_a_halt_by_the_firmware_itself_closes_the_port_instead_of_cancelling_forever(pty_printer, machine, tmp_path,
                                                                                     wait_for, write_gcode):
    server = pty_printer(ok_delay=0.001)
    comm, recorder = machine(port=server.path)
    start_long_print(comm, recorder, tmp_path, write_gcode, wait_for)
    server.printer.firmware.halt()  # as a thermal safety stop or an M112 line in the file would
    wait_for(lambda: comm.get_state() == "CLOSED_WITH_ERROR", timeout=5, message="error state")
    assert "halted" in comm.get_error()
    assert "CANCELLING" not in recorder.states
    assert recorder.named("on_comm_print_job_failed")



#: a sending-phase handler that holds the send path for up to 2 s on the first line starting with
#: ``TRIGGER``; ``entered`` says it is inside, ``release`` lets it return early, ``returned`` that it did
SLOW_PLUGIN = '''
import threading

TRIGGER = "M117 slow"
entered, release, returned = threading.Event(), threading.Event(), threading.Event()

def sending(comm, phase, cmd, *args, **kwargs):
    if cmd.startswith(TRIGGER) and not entered.is_set():
        entered.set()
        release.wait(2)
        returned.set()

__plugin_hooks__ = {"octoprint.comm.protocol.gcode.sending": sending}
'''


def test_m112_overtakes_a_plugin_handler_that_holds_the_send_path(plugins, pty_printer, machine, wait_for):
    """A sending handler sleeping 2 s must not delay M112: it goes out at once, the handler still asleep."""
    manager = plugins({"slow.py": SLOW_PLUGIN})
    slow = manager.plugins["slow"].module
    server = pty_printer()
    comm, recorder = machine(port=server.path, plugin_manager=manager)
    assert comm.send_command("M117 slow")
    wait_for(slow.entered.is_set, timeout=5, message="the slow handler to run")
    try:
        assert comm.send_command("M112")  # returns at once: it waits for nothing the handler holds
        wait_for(lambda: server.printer.firmware.halted, timeout=1, message="the firmware to halt on M112")
        assert not slow.returned.is_set(), "M112 reached the printer only after the slow handler returned"
        assert comm.get_state() == "CLOSED_WITH_ERROR" and comm.get_error() == EMERGENCY_STOP
    finally:
        slow.release.set()
    wait_for(slow.returned.is_set, timeout=5, message="the slow handler to return")
    assert "M117 slow" not in server.printer.accepted  # what the stalled send path held never goes out


def test_m112_during_an_sd_upload_reaches_the_printer_at_once(plugins, pty_printer, machine, tmp_path, wait_for,
                                                               write_gcode):
    """An upload streams file lines through the send path; M112 neither waits for it nor lands in the file."""
    manager = plugins({"slow.py": SLOW_PLUGIN.replace('TRIGGER = "M117 slow"', 'TRIGGER = "G1 X40"')})
    slow = manager.plugins["slow"].module
    server = pty_printer()
    comm, recorder = machine(port=server.path, plugin_manager=manager)
    write_gcode(tmp_path / "up.gcode", 500)
    assert comm.start_sd_file_transfer(str(tmp_path / "up.gcode"), "up.gco")
    wait_for(slow.entered.is_set, timeout=5, message="the upload to reach the slow handler")
    try:
        assert comm.is_streaming()
        assert comm.send_command("M112")
        wait_for(lambda: server.printer.firmware.halted, timeout=1, message="the firmware to halt on M112")
        assert not slow.returned.is_set(), "M112 reached the printer only after the slow handler returned"
        assert comm.get_state() == "CLOSED_WITH_ERROR" and comm.get_error() == EMERGENCY_STOP
        assert not comm.is_streaming()
    finally:
        slow.release.set()
    [(local, remote, reason)] = recorder.named("on_comm_file_transfer_failed")
    assert remote == "up.gco" and reason == EMERGENCY_STOP
    name, written = server.printer.firmware.sd.writing
    assert written and not [line for line in written if "M112" in line or line.startswith("M104")]


def test_m112_in_the_print_file_ends_the_job_as_an_emergency_stop(pty_printer, machine, tmp_path, wait_for):
    """A file with an M112 line: the same end as the button, not a "lost connection" with a
    print to resume."""
    server = pty_printer()
    comm, recorder = machine(port=server.path)
    path = tmp_path / "stop.gcode"
    path.write_text("G28\n" + "".join(f"G1 X{i} Y1 F3000\n" for i in range(20)) + "M112\nG1 X99 Y99\n")
    assert comm.select_file(str(path), False) and comm.start_print()
    wait_for(lambda: server.printer.firmware.halted, timeout=5, message="firmware halted")
    wait_for(lambda: comm.get_state() == "CLOSED_WITH_ERROR", timeout=5, message="closed with the error")
    assert comm.get_error() == EMERGENCY_STOP
    [cancelled] = recorder.named("on_comm_print_job_cancelled")
    assert ("reason", "Cancelled by an emergency stop (M112)") in cancelled
    assert not recorder.named("on_comm_print_job_failed")
    assert not recorder.named("on_comm_record_fileposition")  # nothing to resume
    assert "G1 X99 Y99" not in server.printer.accepted
