"""End to end over a real pseudo-terminal: MachineCom + pyserial + the virtual printer's pty."""

import logging

import pytest

pytestmark = pytest.mark.e2e

LINES = 20_000


def moves(printer):
    return [line for line in printer.accepted if line.startswith("G1 ")]


FAULTY = dict(checksum_error_rate=0.02, lost_ok_rate=0.005, accepted_kept=None)  # None: compare every line
#: lost oks are only noticed by the communication timeout: keep it short for a fast test
FAST_TIMEOUTS = {"timeout_communication": 0.05, "max_timeouts_printing": 0}


@pytest.mark.parametrize("window, advanced_ok", [("rx-bytes", False), ("advanced-ok", True)])
def test_pipelined_modes_keep_going_when_marlin_drops_what_follows_a_bad_line(pty_printer, machine, tmp_path,
                                                                              wait_for, write_gcode, window,
                                                                              advanced_ok):
    """Marlin empties its receive buffer after a bad line: no timeout may be needed to go on."""
    commands = write_gcode(tmp_path / "big.gcode", 3000)
    server = pty_printer(seed=11, advanced_ok=advanced_ok, checksum_error_rate=0.02, flush_rx_on_error=True)
    comm, recorder = machine(port=server.path, options={"window": window, "timeout_communication": 30.0})
    comm.select_file(str(tmp_path / "big.gcode"), False)
    comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_done") or comm.is_error(), timeout=120, message="job done")
    assert not comm.is_error(), comm.get_error()
    assert moves(server.printer) == commands
    assert comm.resend_stats()["count"] > 3000 * 0.02 * 0.5  # the faults really happened
    assert not [line for line in recorder.log if "Communication timeout" in line]


@pytest.mark.parametrize("window, advanced_ok", [("ping-pong", False), ("rx-bytes", False), ("advanced-ok", True)])
def test_20000_lines_exactly_once_in_order_under_faults(pty_printer, machine, tmp_path, wait_for, write_gcode,
                                                        window, advanced_ok):
    commands = write_gcode(tmp_path / "big.gcode", LINES)
    server = pty_printer(seed=7, advanced_ok=advanced_ok, **FAULTY)
    comm, recorder = machine(port=server.path, options={"window": window, **FAST_TIMEOUTS})
    comm.select_file(str(tmp_path / "big.gcode"), False)
    comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_done") or comm.is_error(), timeout=120, message="job done")
    assert not comm.is_error(), comm.get_error()
    assert moves(server.printer) == commands
    stats = comm.resend_stats()
    assert stats["count"] > LINES * 0.02 * 0.5  # the faults really happened
    status = comm.get_job_status()
    assert status["acked_filepos"] == status["size"]


def test_firmware_reset_mid_print(pty_printer, machine, tmp_path, wait_for, write_gcode):
    commands = write_gcode(tmp_path / "big.gcode", LINES)
    server = pty_printer(reset_after_lines=5000)
    comm, recorder = machine(port=server.path, options={"window": "rx-bytes"})
    comm.select_file(str(tmp_path / "big.gcode"), False)
    comm.start_print()
    wait_for(lambda: comm.get_state() == "CLOSED_WITH_ERROR", timeout=60, message="error state")
    assert "restarted" in comm.get_error()
    [(origin, path, pos)] = recorder.named("on_comm_record_fileposition")
    assert origin == "error" and path == str(tmp_path / "big.gcode")
    data = (tmp_path / "big.gcode").read_bytes()
    done = [line for line in data[:pos].decode().splitlines() if line.startswith("G1")]
    accepted = moves(server.printer)
    assert accepted[:len(done)] == [c for c in commands[:len(done)]]  # everything before pos was accepted
    assert 0 < len(done) < LINES


def test_disconnect_mid_print(pty_printer, machine, tmp_path, wait_for, write_gcode):
    write_gcode(tmp_path / "big.gcode", LINES)
    server = pty_printer(disconnect_after_lines=3000)
    comm, recorder = machine(port=server.path)
    comm.select_file(str(tmp_path / "big.gcode"), False)
    comm.start_print()
    wait_for(lambda: comm.get_state() == "CLOSED_WITH_ERROR", timeout=60, message="error state")
    assert "Lost the connection" in comm.get_error()
    [(origin, path, pos)] = recorder.named("on_comm_record_fileposition")
    assert origin == "error" and pos > 0
    assert recorder.named("on_comm_print_job_failed")


def test_pause_resume_cancel_over_pty(pty_printer, machine, tmp_path, wait_for, write_gcode):
    commands = write_gcode(tmp_path / "big.gcode", LINES)
    server = pty_printer(checksum_error_rate=0.01)
    comm, recorder = machine(port=server.path, options={"window": "rx-bytes"})
    comm.select_file(str(tmp_path / "big.gcode"), False)
    comm.start_print()
    wait_for(lambda: len(moves(server.printer)) > 2000, timeout=30, message="2000 moves")
    comm.set_pause(True)
    wait_for(lambda: comm.sender.in_flight() == 0, timeout=30, message="nothing in flight")
    paused_at = len(moves(server.printer))
    comm.send_command("M114")
    wait_for(lambda: recorder.named("on_comm_position_update"), message="position")
    assert len(moves(server.printer)) == paused_at
    comm.set_pause(False)
    wait_for(lambda: len(moves(server.printer)) > paused_at + 2000, timeout=30, message="2000 more moves")
    comm.cancel_print()
    wait_for(lambda: recorder.named("on_comm_print_job_cancelled"), timeout=30, message="cancelled")
    accepted = moves(server.printer)
    assert accepted == commands[:len(accepted)] and len(accepted) < LINES


def test_the_low_latency_setting_reaches_the_port_and_a_refusal_keeps_the_connection(pty_printer, machine, settings,
                                                                                    caplog):
    """``serial.lowLatency`` as OctoPrint has it: asked of the device at every connect; a pty refuses."""
    settings.set("serial.lowLatency", True)
    server = pty_printer()
    with caplog.at_level(logging.WARNING, logger="octohost.comm.transport"):
        comm, _ = machine(port=server.path)  # waits for OPERATIONAL
    assert [record.getMessage().split(";")[0] for record in caplog.records] == [
        f"port {server.path}: the driver refused low latency mode (serial.lowLatency)"]
