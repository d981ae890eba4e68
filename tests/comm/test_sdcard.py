"""The printer's SD card through MachineCom: listing, printing from it, uploading to it."""

import time

from octohost.comm.virtual import VirtualOptions


def sd_printer(files=None, **kwargs):
    return VirtualOptions(sd_files=files or {}, sd_print_rate=20000.0, **kwargs)


def test_card_state_and_file_list(machine, wait_for):
    comm, recorder = machine(virtual=sd_printer({"Calibration Cube.gcode": b"G1 X1\n" * 100}))
    wait_for(lambda: recorder.named("on_comm_capabilities"))  # EXTENDED_M20: long names
    assert comm.refresh_sd_files()
    wait_for(lambda: recorder.named("on_comm_sd_files"), message="file list")
    [files] = recorder.named("on_comm_sd_files")[-1]
    assert files == [{"name": files[0]["name"], "size": 600, "display": "Calibration Cube.gcode"}]
    assert comm.release_sd_card()
    wait_for(lambda: not comm.is_sd_ready())
    assert comm.init_sd_card()
    wait_for(lambda: comm.is_sd_ready())


def test_print_from_sd_to_the_end(machine, wait_for):
    comm, recorder = machine(virtual=sd_printer({"part.gcode": b"G1 X1\n" * 5000}))
    assert comm.select_file("part.gcode", True)
    wait_for(lambda: recorder.named("on_comm_file_selected"), message="File opened")
    assert recorder.named("on_comm_file_selected")[-1][:3] == ("part.gcode", 30000, True)
    assert comm.start_print()
    assert comm.is_printing()
    wait_for(lambda: recorder.named("on_comm_print_job_done"), message="SD print done")
    assert comm.get_state() == "OPERATIONAL"
    accepted = comm.get_transport().accepted
    assert "M24" in accepted and any(line.startswith("M27 S") for line in accepted)


def test_sd_print_pause_and_cancel(machine, wait_for):
    comm, recorder = machine(virtual=VirtualOptions(sd_files={"part.gcode": b"G1 X1\n" * 5000}, sd_print_rate=100.0))
    comm.select_file("part.gcode", True)
    comm.start_print()
    assert comm.set_pause(True) and comm.is_paused()
    # the pause's own M25 (tagged trigger:pause) must not pause again by the pausing-command rule
    wait_for(lambda: "M25" in comm.get_transport().accepted)
    assert comm.get_transport().accepted.count("M25") == 1
    assert len(recorder.named("on_comm_print_job_paused")) == 1
    assert comm.set_pause(False) and comm.is_printing()
    assert comm.cancel_print()
    assert comm.get_state() == "OPERATIONAL"
    wait_for(lambda: "M26 S0" in comm.get_transport().accepted)
    accepted = comm.get_transport().accepted
    assert accepted.index("M25") < accepted.index("M26 S0")
    assert recorder.named("on_comm_print_job_cancelled")


def test_upload_to_sd(machine, tmp_path, wait_for, write_gcode):
    commands = write_gcode(tmp_path / "up.gcode", 300)
    comm, recorder = machine(virtual=sd_printer())
    started = time.monotonic()
    assert comm.start_sd_file_transfer(str(tmp_path / "up.gcode"), "up.gco")
    assert comm.is_streaming() and comm.get_state() == "TRANSFERING_FILE"
    wait_for(lambda: recorder.named("on_comm_file_transfer_done"), message="transfer done")
    took = time.monotonic() - started
    assert comm.get_state() == "OPERATIONAL" and not comm.is_streaming()
    stored = comm.get_transport().sd_files
    [content] = stored.values()
    assert content.decode().splitlines() == commands
    local, remote, elapsed = recorder.named("on_comm_file_transfer_done")[0]
    assert (local, remote) == (str(tmp_path / "up.gcode"), "up.gco")
    assert 0 < elapsed <= took  # the transfer's own duration in seconds, within what the test saw it take


def test_sd_status_is_polled_without_autoreport(machine, wait_for):
    comm, recorder = machine(virtual=VirtualOptions(sd_files={"part.gcode": b"G1 X1\n" * 2000}, sd_print_rate=2000.0,
                                                    autoreport_sd=False),
                             options={"timeout_sd_status": 0.05})
    wait_for(lambda: recorder.named("on_comm_capabilities"))
    comm.select_file("part.gcode", True)
    wait_for(lambda: recorder.named("on_comm_file_selected"))
    comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_done"), message="SD print done")
    accepted = comm.get_transport().accepted
    assert accepted.count("M27") >= 2 and not any(line.startswith("M27 S") for line in accepted)
    assert 0 < comm.get_job_status()["progress"] <= 1.0


def test_a_disconnect_during_an_upload_reports_it_failed(machine, tmp_path, wait_for, write_gcode):
    write_gcode(tmp_path / "up.gcode", 3000)
    comm, recorder = machine(virtual=sd_printer(disconnect_after_lines=200))
    assert comm.start_sd_file_transfer(str(tmp_path / "up.gcode"), "up.gco")
    wait_for(lambda: recorder.named("on_comm_file_transfer_failed"), message="transfer failed")
    local, remote, reason = recorder.named("on_comm_file_transfer_failed")[0]
    assert remote == "up.gco" and "Lost the connection" in reason
    assert not comm.is_streaming() and comm.get_state() == "CLOSED_WITH_ERROR"
    assert not recorder.named("on_comm_print_job_failed")
