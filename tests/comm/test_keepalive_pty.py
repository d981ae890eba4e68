"""The firmware's keepalives (``busy: processing``) over a real pseudo-terminal.

Once a firmware has sent them, a silence longer than ``serial.timeout.communicationBusy`` (3 s)
can only be a lost ok; without them the ``communication`` timeout applies as before.
"""

import time

import pytest

pytestmark = pytest.mark.e2e


def timeouts(recorder):
    return [line for line in recorder.log if line.startswith("Communication timeout")]


def keepalives(recorder):
    return [line for line in recorder.log if line.startswith("Recv: ") and "busy:" in line]


def run_blocking(comm, server, command, wait_for):
    """Send a command that holds the firmware's queue and wait until its ok settled it."""
    assert comm.send_command(command)
    # the firmware is done with it (not merely received it: the host counts a line in flight only after
    # writing it) and the host has settled it
    wait_for(lambda: command in server.printer.accepted and not server.printer.firmware.blocked
             and comm.sender.in_flight() == 0, timeout=10, message=f"the ok of {command}")


def stall_of_one_lost_ok(comm, server, wait_for):
    """Seconds from sending a line whose ok the firmware drops until the next line is accepted."""
    server.printer.lose_oks(1)
    started = time.monotonic()
    assert comm.send_command("M117 ok lost")
    assert comm.send_command("M117 next")
    wait_for(lambda: "M117 next" in server.printer.accepted and comm.sender.in_flight() == 0, timeout=40,
             message="the line after the lost ok")
    return time.monotonic() - started


@pytest.mark.parametrize("blocking, keepalive", [("G4 S1.2", "echo:busy: processing"),
                                                 ("M0 S1.2", "echo:busy: paused for user")])
def test_after_keepalives_a_lost_ok_costs_the_short_busy_timeout(pty_printer, machine, wait_for, blocking, keepalive):
    server = pty_printer(busy_interval=0.5)
    # M0 is blocked by default (serial.blockedCommands): unblocked here, as its keepalives are the point
    comm, recorder = machine(port=server.path, options={"blocked_commands": frozenset()})  # timeouts: defaults
    run_blocking(comm, server, blocking, wait_for)
    assert f"Recv: {keepalive}" in keepalives(recorder)
    stall = stall_of_one_lost_ok(comm, server, wait_for)
    assert 2.5 <= stall < 4.5, stall
    assert [line.split(" (")[1].split(" s")[0] for line in timeouts(recorder)] == ["3"]
    assert "M113 S2" in server.printer.accepted  # keepalives asked for well inside that timeout


def test_without_keepalives_the_communication_timeout_applies(pty_printer, machine, wait_for):
    server = pty_printer(busy_protocol=False)
    comm, recorder = machine(port=server.path, options={"timeout_communication": 5.0,
                                                       "timeout_communication_busy": 1.0})
    run_blocking(comm, server, "G4 S1.2", wait_for)
    assert not keepalives(recorder)
    stall = stall_of_one_lost_ok(comm, server, wait_for)
    assert 4.5 <= stall < 7.0, stall
    assert [line.split(" (")[1].split(" s")[0] for line in timeouts(recorder)] == ["5"]


def test_keepalives_are_not_oks(pty_printer, machine, wait_for):
    """Ping-pong: while G4 holds the queue and keepalives arrive, the next line must wait for G4's ok."""
    server = pty_printer(busy_interval=0.2)
    comm, recorder = machine(port=server.path)
    assert comm.send_command("G4 S30")
    wait_for(lambda: "G4 S30" in server.printer.accepted, timeout=5, message="G4 accepted")
    assert comm.send_command("M117 after the dwell")
    wait_for(lambda: len(keepalives(recorder)) >= 3, timeout=10, message="three keepalives")
    assert "M117 after the dwell" not in server.printer.accepted
    assert not [line for line in recorder.log if line.startswith("Send: ") and "after the dwell" in line]
    assert comm.sender.in_flight() == 1 and not timeouts(recorder)
    assert comm.send_command("M108", force=True)  # the emergency parser ends the dwell at once
    wait_for(lambda: "M117 after the dwell" in server.printer.accepted, timeout=5, message="the next line")
    assert not timeouts(recorder)


def test_a_firmware_restart_forgets_the_keepalives(pty_printer, machine, wait_for):
    """After a reset the board may send no keepalives (and has forgotten M113): a lost ok is judged
    by the plain communication timeout again, not the short one the old firmware earned."""
    server = pty_printer(busy_interval=0.5)
    comm, recorder = machine(port=server.path, options={"timeout_communication": 5.0,
                                                       "timeout_communication_busy": 1.0})
    run_blocking(comm, server, "G4 S1.2", wait_for)
    assert keepalives(recorder)
    assert comm.send_command("!!DEBUG:reset")
    wait_for(lambda: any("The printer restarted" in line for line in recorder.log), timeout=10,
             message="the restart noticed")
    wait_for(lambda: comm.get_state() == "OPERATIONAL", timeout=10, message="greeted again")
    stall = stall_of_one_lost_ok(comm, server, wait_for)
    assert stall >= 4.5, stall
