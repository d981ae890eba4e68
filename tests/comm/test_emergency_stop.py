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
