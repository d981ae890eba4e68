"""Cancel against the last ok, over a real pseudo-terminal, with the interleaving forced rather than hoped for."""

import threading


def test_cancel_while_the_last_ok_is_being_handled_still_ends_the_job(pty_printer, machine, tmp_path, wait_for,
                                                                     write_gcode):
    """The receive thread has an ok in hand but not yet settled it when cancel looks at what is in flight.

    With temperature auto-reports nothing polls, so no later ok comes along: a cancel that waits for
    one more ok stays CANCELLING for good (until the communication timeout, 60 s here).
    """
    server = pty_printer()
    comm, recorder = machine(port=server.path, options={"timeout_communication": 60.0})
    sender = comm.sender
    settle = sender.acknowledge
    armed, holding, go = threading.Event(), threading.Event(), threading.Event()

    def gated_acknowledge(*args, **kwargs):
        """The receive thread stops here with the next ok once armed: read, but not yet settled."""
        if armed.is_set() and not holding.is_set():
            holding.set()
            go.wait(10)
        return settle(*args, **kwargs)

    sender.acknowledge = gated_acknowledge
    write_gcode(tmp_path / "part.gcode", 20000)
    assert comm.select_file(str(tmp_path / "part.gcode"), False)
    assert comm.start_print()
    wait_for(lambda: (comm.get_job_status()["acked_filepos"] or 0) > 2000, message="printing")
    assert "M155 S2" in server.printer.accepted  # auto-reports: no M105 poll will bring another ok
    armed.set()
    wait_for(holding.is_set, timeout=5, message="the receive thread to hold an ok")
    try:
        assert sender.in_flight() == 1  # ping-pong: the line whose ok is in hand
        assert comm.cancel_print()
    finally:
        go.set()
    wait_for(lambda: comm.get_state() == "OPERATIONAL", timeout=5,
             message=lambda: f"the cancel to end (state {comm.get_state()})")
    assert len(recorder.named("on_comm_print_job_cancelled")) == 1
    assert recorder.states[-2:] == ["CANCELLING", "OPERATIONAL"]
    assert sender.in_flight() == 0


def test_cancel_with_nothing_in_flight_ends_at_once(pty_printer, machine, tmp_path, wait_for, write_gcode):
    server = pty_printer()
    comm, recorder = machine(port=server.path)
    write_gcode(tmp_path / "part.gcode", 20000)
    assert comm.select_file(str(tmp_path / "part.gcode"), False)
    assert comm.start_print()
    wait_for(lambda: (comm.get_job_status()["acked_filepos"] or 0) > 2000, message="printing")
    assert comm.set_pause(True)
    wait_for(lambda: comm.sender.in_flight() == 0, timeout=5, message="the paused job's last ok")
    assert comm.cancel_print()
    assert comm.get_state() == "OPERATIONAL"  # no ok to wait for: done before cancel_print returned
    assert len(recorder.named("on_comm_print_job_cancelled")) == 1
