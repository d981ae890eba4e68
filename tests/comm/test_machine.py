"""MachineCom against the in-process virtual printer: connection, commands, jobs, state changes."""

import pytest

from octohost.comm.virtual import VirtualOptions


def moves(printer):
    return [line for line in printer.accepted if line.startswith("G1 ")]


def every_line_answered(log):
    """Whether the last numbered line sent has its ``ok N..`` (advanced oks name the line) in ``log``."""
    sent = [int(line.split()[1][1:]) for line in log if line.startswith("Send: N")]
    acked = [int(line.split()[2][1:]) for line in log if line.startswith("Recv: ok N")]
    return bool(sent) and bool(acked) and max(acked) >= max(sent)


def test_connect_reports_firmware_capabilities_and_temperatures(machine, wait_for):
    rendered = []

    def renderer(name, context, comm):
        rendered.append(name)
        return ["M117 connected"] if name == "afterPrinterConnected" else None

    comm, recorder = machine(script_renderer=renderer)
    assert recorder.states[:3] == ["OPEN_SERIAL", "CONNECTING", "OPERATIONAL"]
    wait_for(lambda: recorder.named("on_comm_capabilities"), message="capability report")
    assert comm.firmware_name.startswith("Marlin")
    assert comm.capabilities["AUTOREPORT_TEMP"] is True
    assert comm.firmware_info["MACHINE_TYPE"] == "Virtual Printer"
    printer = comm.get_transport()
    wait_for(lambda: "M155 S2" in printer.accepted, message="M155 autoreport")
    wait_for(lambda: recorder.named("on_comm_temperature_update"), message="temperatures")
    temps = recorder.named("on_comm_temperature_update")[-1][0]
    assert set(temps) == {"tool0", "bed"} and temps["tool0"][1] == 0.0
    wait_for(lambda: "M117 connected" in printer.accepted)
    assert "afterPrinterConnected" in rendered


def test_commands_and_position(machine, wait_for):
    comm, recorder = machine()
    assert comm.send_command("G28")
    assert comm.send_command("M114")
    wait_for(lambda: recorder.named("on_comm_position_update"), message="position")
    assert recorder.named("on_comm_position_update")[-1][0] == {"x": 0.0, "y": 0.0, "z": 0.0, "e": 0.0}
    accepted = comm.get_transport().accepted
    assert accepted.index("G28") < accepted.index("M114")


def test_without_autoreport_temperatures_are_polled(machine, wait_for):
    comm, recorder = machine(virtual=VirtualOptions(autoreport_temp=False), options={"timeout_temperature": 0.05})
    wait_for(lambda: comm.get_transport().accepted.count("M105") >= 3, message="M105 polls")
    assert "M155 S2" not in comm.get_transport().accepted
    wait_for(lambda: recorder.named("on_comm_temperature_update"))


def test_commands_of_one_type_are_queued_once(machine):
    comm, _ = machine(virtual=VirtualOptions(ok_delay=0.05))
    comm.send_command("G4 P1")
    # a type of our own: the connection's own temperature poll ("temperature_poll") may already sit in
    # the queue right after connecting, which made the first of these refused now and then
    results = [comm.send_command("M105", cmd_type="test_poll") for _ in range(3)]
    assert results[0] and not any(results[1:])


def test_prints_a_file_exactly_once_in_order(machine, tmp_path, wait_for, write_gcode):
    commands = write_gcode(tmp_path / "part.gcode", 500)
    comm, recorder = machine()
    assert comm.select_file(str(tmp_path / "part.gcode"), False)
    assert comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_done"), message="job done")
    wait_for(lambda: comm.get_state() == "OPERATIONAL")
    assert moves(comm.get_transport()) == commands
    status = comm.get_job_status()
    assert status["progress"] == 1.0 and status["acked_filepos"] == status["size"]
    assert "STARTING" in recorder.states and "FINISHING" in recorder.states
    assert any(line.startswith("Send: N") and "G1 X1.1" in line for line in recorder.log)


def test_the_terminal_log_reads_in_order_although_the_next_line_goes_out_first(machine, tmp_path, wait_for,
                                                                              write_gcode):
    """One line in flight: every line sent is followed by its ok in the log, before the next send."""
    write_gcode(tmp_path / "part.gcode", 300)
    comm, recorder = machine()
    assert comm.select_file(str(tmp_path / "part.gcode"), False)
    assert comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_done"), message="job done")
    first_move = next(i for i, line in enumerate(recorder.log) if line.startswith("Send: N") and " G1 " in line)
    flow = [line.split()[0] for line in recorder.log[first_move:]
            if line.startswith("Send: ") or line.startswith("Recv: ok")]
    assert len(flow) >= 600
    assert flow[0::2] == ["Send:"] * len(flow[0::2]) and flow[1::2] == ["Recv:"] * len(flow[1::2])


def test_an_advanced_ok_is_logged_after_the_line_it_made_room_for_is_written(machine, tmp_path, wait_for,
                                                                           write_gcode, monkeypatch):
    """``ok N.. P.. B..`` has extras, but none that must be handled before the next write.

    Only oks of job lines are paired with the next send: an ok that arrived while the line was
    idle made room for nothing (the job's first line is written by ``start_print``). So the
    connection's own commands (M115, M155) are answered before the print starts; otherwise the
    outcome depended on whether their oks came before or after the start (they came before on a
    busy machine, and the test failed).
    """
    from octohost.comm.virtual.printer import VirtualPrinter

    events = []
    original_write = VirtualPrinter.write

    def write(self, data):
        events.append(("write", data.decode().strip()))
        return original_write(self, data)

    monkeypatch.setattr(VirtualPrinter, "write", write)
    write_gcode(tmp_path / "part.gcode", 200)
    comm, recorder = machine(virtual=VirtualOptions(advanced_ok=True), options={"window": "advanced-ok"})
    wait_for(lambda: recorder.named("on_comm_capabilities"), message="capability report")
    wait_for(lambda: any(line.startswith("Send: N") and " M155 " in line for line in recorder.log),
             message="M155 sent")
    wait_for(lambda: every_line_answered(recorder.log), message="oks for every line sent while connecting")
    recorder.on_comm_log = lambda line: events.append(("log", line))
    assert comm.select_file(str(tmp_path / "part.gcode"), False)
    events.append(("start", None))
    assert comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_done"), message="job done")
    started_at = events.index(("start", None))
    logs = [(index, line) for index, (kind, line) in enumerate(events) if kind == "log" and index > started_at]
    checked = 0
    for (ok_at, ok_line), (_, sent_line) in zip(logs, logs[1:], strict=False):
        if ok_line.startswith("Recv: ok N") and sent_line.startswith("Send: N") and " G1 " in sent_line:
            written_at = events.index(("write", sent_line[len("Send: "):]))
            assert written_at < ok_at, (ok_line, sent_line)
            checked += 1
    assert checked >= 100


def test_print_from_a_position_resumes_there(machine, tmp_path, wait_for, write_gcode):
    path = tmp_path / "part.gcode"
    commands = write_gcode(path, 50)
    offset = path.read_bytes().index(commands[30].encode())
    comm, recorder = machine()
    comm.select_file(str(path), False)
    comm.start_print(pos=offset)
    wait_for(lambda: recorder.named("on_comm_print_job_done"))
    assert moves(comm.get_transport()) == commands[30:]


@pytest.mark.parametrize("window", ["ping-pong", "rx-bytes"])
def test_pause_resume_cancel_mid_stream(machine, tmp_path, window, wait_for, write_gcode):
    commands = write_gcode(tmp_path / "part.gcode", 3000)
    comm, recorder = machine(virtual=VirtualOptions(ok_delay=0.0005), options={"window": window})
    printer = comm.get_transport()
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    wait_for(lambda: len(moves(printer)) > 300)
    assert comm.set_pause(True)
    assert comm.is_paused()
    wait_for(lambda: comm.sender.in_flight() == 0)
    paused_at = len(moves(printer))
    assert paused_at < 3000
    [(origin, path, pos)] = recorder.named("on_comm_record_fileposition")
    assert origin == "pause" and pos == comm.get_job_status()["acked_filepos"]
    assert comm.send_command("M114")  # commands still go through while paused
    wait_for(lambda: printer.accepted[-1] == "M114")
    assert len(moves(printer)) == paused_at
    assert comm.set_pause(False)
    wait_for(lambda: len(moves(printer)) > paused_at + 300)
    assert comm.cancel_print()
    wait_for(lambda: recorder.named("on_comm_print_job_cancelled"), message="cancelled")
    assert comm.get_state() == "OPERATIONAL"
    accepted = moves(printer)
    assert accepted == commands[:len(accepted)] and len(accepted) < 3000
    assert [args[0] for args in recorder.named("on_comm_record_fileposition")] == ["pause", "cancel"]
    assert recorder.named("on_comm_print_job_paused") and recorder.named("on_comm_print_job_resumed")


def test_at_commands_in_a_file(machine, tmp_path, wait_for, write_gcode):
    commands = write_gcode(tmp_path / "part.gcode", 100, extra={49: "@pause"})
    comm, recorder = machine()
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    wait_for(lambda: comm.is_paused(), message="@pause")
    wait_for(lambda: comm.sender.in_flight() == 0)
    assert moves(comm.get_transport()) == commands[:50]
    comm.set_pause(False)
    wait_for(lambda: recorder.named("on_comm_print_job_done"))
    assert moves(comm.get_transport()) == commands
    assert not any("@pause" in line for line in comm.get_transport().accepted)


@pytest.mark.parametrize("window", ["ping-pong", "rx-bytes"])
@pytest.mark.parametrize("with_plugin", [False, True], ids=["no phase handler", "a queuing handler"])
def test_m0_in_a_file_pauses_the_print_and_never_reaches_the_printer(plugins, machine, tmp_path, wait_for,
                                                                     write_gcode, with_plugin, window):
    """OctoPrint's pausingCommands and blockedCommands on a sliced "pause at height": the host
    pauses where the M0 stands, the firmware (which would wait for a button) never gets it, nor
    any line after it until the resume (``rx-bytes`` has room for more at once). Job lines skip
    the phases when no plugin handles them; this one must not."""
    # right after the first line: rx-bytes then still has room for the line behind the M0
    commands = write_gcode(tmp_path / "part.gcode", 100, extra={0: "M0 ; pause at height"})
    manager = plugins({"p.py": """
def queuing(comm, phase, cmd, cmd_type, gcode, *args, **kwargs):
    return None

__plugin_hooks__ = {"octoprint.comm.protocol.gcode.queuing": queuing}
"""}) if with_plugin else None
    comm, recorder = machine(plugin_manager=manager, options={"window": window})
    assert comm.sender.quiet is not with_plugin
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    wait_for(lambda: comm.is_paused(), message="paused by M0")
    wait_for(lambda: comm.sender.in_flight() == 0)
    assert moves(comm.get_transport()) == commands[:1]
    assert recorder.named("on_comm_command_suppressed") == [
        ("M0", "Not sending M0 to printer as it's configured as a blocked command", "warn")]
    assert "Info: Not sending M0 to printer as it's configured as a blocked command" in recorder.log
    comm.set_pause(False)
    wait_for(lambda: recorder.named("on_comm_print_job_done"))
    assert moves(comm.get_transport()) == commands
    assert not [line for line in comm.get_transport().accepted if line.split()[0] == "M0"]


def test_blocked_and_pausing_commands_from_a_client(machine, settings, wait_for):
    """The rules apply to whoever sends: a blocked command is kept back, a pausing one outside a
    print is just sent; the lists are settings."""
    settings.set("serial.blockedCommands", ["m1", "M117"])  # upper-cased as the connection reads them
    comm, recorder = machine()
    assert not comm.send_command("M117 not this")
    assert not comm.send_command("m1")
    assert comm.send_command("M25")
    assert comm.send_command("M0 P1")  # not blocked any more: the virtual Marlin waits 1 ms
    assert comm.send_command("M114")  # the last: once it arrived, so did everything before it
    wait_for(lambda: any(line.startswith("M114") for line in comm.get_transport().accepted))
    sent = [line.split()[0] for line in comm.get_transport().accepted]
    assert "M25" in sent and "M0" in sent and "M1" not in sent and "M117" not in sent
    assert [args[0] for args in recorder.named("on_comm_command_suppressed")] == ["M117 not this", "m1"]
    assert not comm.is_paused()


@pytest.mark.parametrize("parser", [True, False], ids=["emergency parser", "no emergency parser"])
def test_m108_goes_out_at_once_where_the_firmware_has_an_emergency_parser(machine, wait_for, parser):
    """OctoPrint's emergencyCommands: with EMERGENCY_PARSER reported, M108 is written while M109
    still waits (Marlin ends the wait as the bytes arrive), not queued behind its ok; without it,
    M108 waits its turn like any command."""
    virtual = VirtualOptions(emergency_parser=parser, heat_rate=0.01 if parser else 5.0, wait_report_interval=1000.0)
    comm, recorder = machine(virtual=virtual)
    wait_for(lambda: "EMERGENCY_PARSER" in comm.firmware.capabilities, message="the firmware's capability report")
    assert comm.firmware.has("EMERGENCY_PARSER") is parser
    assert comm.send_command("M109 S30")  # at 0.01 °C/s never reached: only M108 can end it
    wait_for(lambda: "M109 S30" in comm.get_transport().accepted)
    assert comm.send_command("M108")
    wait_for(lambda: "M108" in comm.get_transport().accepted and comm.sender.in_flight() == 0, timeout=20)
    log = recorder.log
    heating = next(index for index, line in enumerate(log) if line.startswith("Send:") and "M109 S30" in line)
    stopping = next(index for index, line in enumerate(log) if line.startswith("Send:") and "M108" in line)
    assert ("Recv: ok" in log[heating:stopping]) is not parser  # M109's ok came first only without the parser


def test_at_cancel_in_a_file(machine, tmp_path, wait_for, write_gcode):
    commands = write_gcode(tmp_path / "part.gcode", 100, extra={9: "@cancel"})
    comm, recorder = machine()
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_cancelled"))
    assert moves(comm.get_transport()) == commands[:10]


def test_action_commands_from_the_firmware_pause_and_resume(machine, tmp_path, wait_for, write_gcode):
    write_gcode(tmp_path / "part.gcode", 20000)
    comm, recorder = machine(virtual=VirtualOptions(ok_delay=0.0005))
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    comm.get_transport().inject("// action:pause")
    wait_for(lambda: comm.is_paused(), message="paused by action")
    comm.get_transport().inject("// action:resume")
    wait_for(lambda: comm.get_state() == "PRINTING", message="resumed by action")
    comm.get_transport().inject("// action:cancel")
    wait_for(lambda: comm.get_state() == "OPERATIONAL", message="cancelled by action")


def test_z_changes_are_reported(machine, tmp_path, wait_for):
    (tmp_path / "z.gcode").write_text("G1 Z0.2\nG1 X1\nG1 Z0.4 X2\nG91\nG1 Z1\n")
    comm, recorder = machine()
    comm.select_file(str(tmp_path / "z.gcode"), False)
    comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_done"))
    assert [args[0] for args in recorder.named("on_comm_z_change")] == [0.2, 0.4, 1.4]


def test_firmware_error_cancels_the_print(machine, tmp_path, wait_for, write_gcode):
    write_gcode(tmp_path / "part.gcode", 20000)
    comm, recorder = machine(virtual=VirtualOptions(ok_delay=0.0005))
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    comm.get_transport().inject("Error:Thermal Runaway, system stopped! Heater_ID: 0")
    wait_for(lambda: recorder.named("on_comm_print_job_cancelled"))
    assert ("firmware_error", "Thermal Runaway, system stopped! Heater_ID: 0") in \
        recorder.named("on_comm_print_job_cancelling")[0]


def test_firmware_error_disconnects_when_configured(machine, wait_for):
    comm, recorder = machine(options={"firmware_errors": "disconnect"})
    comm.get_transport().inject("Error:MINTEMP triggered, system stopped! Heater_ID: bed")
    wait_for(lambda: comm.get_state() == "CLOSED_WITH_ERROR")
    assert "MINTEMP" in comm.get_error()
    assert recorder.named("on_comm_error")


def test_firmware_error_ignored_when_configured(machine, wait_for):
    comm, recorder = machine(options={"firmware_errors": "ignore"})
    comm.get_transport().inject("Error:Something odd")
    wait_for(lambda: ("Error: Something odd",) in recorder.named("on_comm_message"))
    assert comm.get_state() == "OPERATIONAL"


def test_emergency_stop_is_sent_at_once(machine, wait_for):
    comm, recorder = machine(virtual=VirtualOptions(ok_delay=0.01))
    comm.send_command("G4 S100")
    comm.send_command("M112")
    wait_for(lambda: comm.get_transport().firmware.halted, message="halted")


def test_lost_oks_are_recovered_by_the_timeout(machine, tmp_path, wait_for, write_gcode):
    commands = write_gcode(tmp_path / "part.gcode", 300)
    comm, recorder = machine(virtual=VirtualOptions(lost_ok_rate=0.02, seed=5),
                             options={"timeout_communication": 0.05, "max_timeouts_printing": 0})
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_done"), timeout=30)
    assert moves(comm.get_transport()) == commands
    assert any(line.startswith("Communication timeout") for line in recorder.log)


def test_a_printer_that_stops_answering_ends_in_an_error(machine, wait_for):
    comm, recorder = machine(options={"timeout_communication": 0.05, "max_timeouts_idle": 2})
    printer = comm.get_transport()
    printer.options.lost_ok_rate = 1.0
    comm.send_command("M114")
    wait_for(lambda: comm.get_state() == "CLOSED_WITH_ERROR", message="error state")
    assert "stopped answering" in comm.get_error()


def test_resend_of_a_line_no_longer_in_history_is_an_error(machine, wait_for):
    comm, recorder = machine()
    comm.get_transport().inject("Resend: 99999")
    wait_for(lambda: comm.get_state() == "CLOSED_WITH_ERROR")
    assert "99999" in comm.get_error()


def test_firmware_reset_mid_print_is_a_clear_error_with_the_position_kept(machine, tmp_path, wait_for, write_gcode):
    commands = write_gcode(tmp_path / "part.gcode", 2000)
    comm, recorder = machine(virtual=VirtualOptions(reset_after_lines=500))
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    wait_for(lambda: comm.get_state() == "CLOSED_WITH_ERROR", message="error state")
    assert "restarted" in comm.get_error()
    [(origin, path, pos)] = recorder.named("on_comm_record_fileposition")
    assert origin == "error" and 0 < pos < comm.get_job_status()["size"]
    assert "restarted" in recorder.named("on_comm_print_job_failed")[0][0]
    done_before_pos = (tmp_path / "part.gcode").read_bytes()[:pos].decode().count("G1 ")
    assert moves(comm.get_transport())[:done_before_pos] == commands[:done_before_pos]


def test_disconnect_mid_print_is_a_clear_error_with_the_position_kept(machine, tmp_path, wait_for, write_gcode):
    write_gcode(tmp_path / "part.gcode", 2000)
    comm, recorder = machine(virtual=VirtualOptions(disconnect_after_lines=700))
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    wait_for(lambda: comm.get_state() == "CLOSED_WITH_ERROR", message="error state")
    assert "Lost the connection" in comm.get_error()
    [(origin, path, pos)] = recorder.named("on_comm_record_fileposition")
    assert origin == "error" and pos > 0
    assert "lost" in recorder.named("on_comm_print_job_failed")[0][0]


def test_a_port_that_never_answers_times_out(machine, wait_for):
    comm, recorder = machine(port="loop://", options={"timeout_connection": 0.5}, wait=False)
    wait_for(lambda: comm.is_error(), message="connection timeout")
    assert "did not answer" in comm.get_error()


def test_a_port_that_cannot_be_opened_is_a_clear_error(machine, tmp_path, wait_for):
    comm, recorder = machine(port=str(tmp_path / "nope"), wait=False)
    wait_for(lambda: comm.is_error())
    assert "Could not open" in comm.get_error()


def test_close_while_printing_records_the_position(machine, tmp_path, wait_for, write_gcode):
    write_gcode(tmp_path / "part.gcode", 20000)
    comm, recorder = machine(virtual=VirtualOptions(ok_delay=0.0005))
    comm.select_file(str(tmp_path / "part.gcode"), False)
    comm.start_print()
    wait_for(lambda: (comm.get_job_status()["acked_filepos"] or 0) > 1000)
    comm.close()
    assert comm.get_state() == "CLOSED"
    assert recorder.named("on_comm_record_fileposition")[0][0] == "disconnect"
    assert recorder.named("on_comm_print_job_failed")


def test_virtual_port_follows_the_serial_virtual_settings(machine, settings, wait_for):
    settings.set("serial.virtual", {"firmwareName": "Configured Firmware"})
    comm, recorder = machine()
    wait_for(lambda: comm.firmware_name is not None, message="M115 report")
    assert comm.firmware_name == "Configured Firmware"


def test_long_running_commands_are_no_timeouts(machine, wait_for):
    """Homing and heating take longer than the timeout; busy and temperature reports keep them alive."""
    comm, recorder = machine(virtual=VirtualOptions(homing_time=8.0, busy_interval=1.0, heat_rate=4.0,
                                                    wait_report_interval=1.0, time_scale=10.0),
                             options={"timeout_communication": 0.3, "timeout_communication_busy": 0.3})
    comm.send_command("G28")
    comm.send_command("M109 S40")
    comm.send_command("M114")
    wait_for(lambda: recorder.named("on_comm_position_update"), message="M114 after G28 and M109")
    assert not any(line.startswith("Communication timeout") for line in recorder.log)
    assert any("busy: processing" in line for line in recorder.log)
    assert any("W:" in line for line in recorder.log)
    assert comm.get_state() == "OPERATIONAL"


def test_a_restart_while_idle_connects_again(machine, wait_for):
    comm, recorder = machine()
    wait_for(lambda: recorder.named("on_comm_capabilities"))
    comm.get_transport().reset()
    wait_for(lambda: recorder.states[-2:] == ["CONNECTING", "OPERATIONAL"], message="handshake again")
    wait_for(lambda: len(recorder.named("on_comm_capabilities")) == 2, message="second M115 report")
    assert comm.send_command("M114")
    wait_for(lambda: recorder.named("on_comm_position_update"))


def test_close_right_after_connect_leaves_nothing_running(settings, recorder):
    from octohost.comm.machine import MachineCom

    for _ in range(20):
        comm = MachineCom("VIRTUAL", 115200, recorder, settings)
        comm.connect()
        comm.close()
        assert comm.get_state() == "CLOSED"
