"""Fault injection of the virtual printer: rates, determinism, RX overflow, reset, disconnect, halt."""

import re

import pytest
import serial
from comm_support import numbered

from octohost.comm.virtual import VirtualOptions, VirtualPrinter


@pytest.fixture
def make_printer():
    printers = []

    def make(**options):
        printer = VirtualPrinter(VirtualOptions(**options))
        printer.timeout = 0
        assert printer.wait_idle(5)
        printers.append(printer)
        return printer

    yield make
    for printer in printers:
        printer.close()


def answers(printer, *lines):
    """Write ``lines`` in one go, wait until the firmware dealt with all of them, return its output lines."""
    printer.write("".join(line + "\n" for line in lines).encode())
    assert printer.wait_idle(5)
    output = b""
    while chunk := printer.read(65536):
        output += chunk
    return output.decode().splitlines()


def fresh(printer):
    answers(printer)  # drop the banner
    assert answers(printer, numbered(0, "M110 N0"))[-1].startswith("ok")


def stream(printer, count):
    """A careful host: one line at a time, resending whatever the firmware asks for, oks or not."""
    transcript = []
    n = 1
    while n <= count:
        lines = answers(printer, numbered(n, f"G1 X{n}"))
        transcript.append(lines)
        resend = [int(line.split(":")[1]) for line in lines if line.startswith("Resend:")]
        n = resend[0] if resend else n + 1
    return transcript


def test_same_seed_same_answers_other_seed_other_answers(make_printer):
    faults = dict(checksum_error_rate=0.1, lost_ok_rate=0.05, missing_line_number_rate=0.05)
    runs = []
    for seed in (5, 5, 6):
        printer = make_printer(seed=seed, **faults)
        fresh(printer)
        runs.append(stream(printer, 300))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_fault_rates_are_roughly_honoured_and_every_line_is_accepted_once_in_order(make_printer):
    printer = make_printer(seed=1, checksum_error_rate=0.1, lost_ok_rate=0.05, missing_line_number_rate=0.05)
    fresh(printer)
    transcript = stream(printer, 2000)
    flat = [line for lines in transcript for line in lines]
    checksum_errors = sum(line.startswith("Error:checksum mismatch") for line in flat)
    number_errors = sum(line.startswith("Error:No Line Number with checksum") for line in flat)
    silent = sum(lines == [] for lines in transcript)
    assert 150 < checksum_errors < 300
    assert 60 < number_errors < 160
    assert 60 < silent < 180
    assert printer.accepted == ["M110 N0"] + [f"G1 X{n}" for n in range(1, 2001)]


def test_an_injected_error_is_error_resend_ok(make_printer):
    printer = make_printer(seed=3, checksum_error_rate=0.5)
    fresh(printer)
    transcript = stream(printer, 40)
    errors = [lines for lines in transcript if lines[0].startswith("Error:")]
    assert errors
    for lines in errors:
        last = int(lines[0].rsplit(" ", 1)[1])
        assert lines == [f"Error:checksum mismatch, Last Line: {last}", f"Resend: {last + 1}", "ok"]


def test_overfilled_rx_buffer_corrupts_lines_and_the_host_gets_resend_requests(make_printer):
    printer = make_printer(rx_buffer_size=64)
    fresh(printer)
    lines = [numbered(n, f"G1 X{n}.000 Y{n}.000") for n in range(1, 11)]
    assert all(len(line) + 1 > 20 for line in lines)
    output = answers(printer, *lines)
    fitting = 4 + 64 // (len(lines[0]) + 1)  # four in the command queue, the rest in the RX buffer
    assert printer.accepted == ["M110 N0"] + [f"G1 X{n}.000 Y{n}.000" for n in range(1, fitting + 1)]
    errors = [line for line in output if line.startswith("Error:")]
    assert len(errors) == len(lines) - fitting
    assert {line for line in output if line.startswith("Resend:")} == {f"Resend: {fitting + 1}"}
    assert output.count("ok") == len(lines)


def test_marlin_style_flush_drops_what_waits_behind_a_bad_line(make_printer):
    printer = make_printer(rx_buffer_size=64, flush_rx_on_error=True)
    fresh(printer)
    lines = [numbered(n, f"G1 X{n}.000 Y{n}.000") for n in range(1, 11)]
    output = answers(printer, *lines)
    fitting = 4 + 64 // (len(lines[0]) + 1)
    assert printer.accepted == ["M110 N0"] + [f"G1 X{n}.000 Y{n}.000" for n in range(1, fitting + 1)]
    error, *rest = output[fitting:]
    assert error.startswith("Error:") and error.endswith(f", Last Line: {fitting}")
    assert rest == [f"Resend: {fitting + 1}", "ok"]
    resent = answers(printer, *lines[fitting:fitting + 1])
    assert resent == ["ok"]  # the flushed lines gave their RX bytes back


def test_a_host_that_respects_the_rx_buffer_gets_no_errors(make_printer):
    printer = make_printer(rx_buffer_size=64)
    fresh(printer)
    lines = [numbered(n, f"G1 X{n}.000 Y{n}.000") for n in range(1, 301)]
    batch, size = [], 0
    for line in lines:
        if size + len(line) + 1 > 64:
            assert not any(a.startswith("Error") for a in answers(printer, *batch))
            batch, size = [], 0
        batch.append(line)
        size += len(line) + 1
    answers(printer, *batch)
    assert printer.accepted[1:] == [line.split(" ", 1)[1].split("*")[0] for line in lines]


def test_reset_after_lines_restarts_the_firmware_and_its_line_numbers(make_printer):
    printer = make_printer(reset_after_lines=4)
    fresh(printer)
    output = answers(printer, numbered(1, "G1 X1"), numbered(2, "G1 X2"), numbered(3, "G1 X3"), numbered(4, "G1 X4"))
    assert output[:3] == ["ok", "ok", "ok"]
    assert "start" in output
    assert answers(printer, numbered(4, "G1 X4")) == [
        "Error:Line Number is not Last Line Number+1, Last Line: 0", "Resend: 1", "ok"]
    assert answers(printer, numbered(0, "M110 N0"), numbered(1, "G1 X4")) == ["ok", "ok"]
    assert printer.accepted == ["M110 N0", "G1 X1", "G1 X2", "G1 X3", "M110 N0", "G1 X4"]


def test_reset_on_demand_loses_pending_input_and_greets_again(make_printer):
    printer = make_printer(time_scale=1.0, homing_time=60.0)
    fresh(printer)
    printer.write(b"G28\nG1 X5\nG1 X6\n")
    printer.reset()
    assert printer.wait_idle(5)
    output = answers(printer)
    assert output[0] == "start" and output[-1] == "echo:SD card ok"
    assert printer.accepted == ["M110 N0", "G28"]
    assert answers(printer, numbered(1, "G1 X1")) == ["ok"]


def test_disconnect_after_lines_drops_the_port(make_printer):
    printer = make_printer(disconnect_after_lines=3)
    fresh(printer)
    printer.write(f"{numbered(1, 'G1 X1')}\n{numbered(2, 'G1 X2')}\n".encode())
    assert printer.readline() == b"ok\n"
    with pytest.raises(serial.SerialException, match="disconnected"):
        while True:
            printer.read(100)
    with pytest.raises(serial.SerialException, match="disconnected"):
        printer.write(b"G1 X3\n")
    assert printer.accepted == ["M110 N0", "G1 X1", "G1 X2"]


def test_disconnect_on_demand(make_printer):
    printer = make_printer()
    printer.disconnect()
    with pytest.raises(serial.SerialException):
        printer.write(b"M105\n")
    assert printer.readline() == b"start\n"  # what the board sent before the cable went stays readable
    with pytest.raises(serial.SerialException):
        while True:
            printer.read(100)


def test_m108_ends_a_heating_wait_at_once(make_printer):
    printer = make_printer(heat_rate=0.01, wait_report_interval=1000.0)
    fresh(printer)
    printer.write(b"M109 S200\n")
    assert not printer.wait_idle(0.2)
    assert answers(printer, "M108") == ["ok", "ok"]
    assert printer.accepted[-2:] == ["M109 S200", "M108"]


def test_m112_halts_until_reset(make_printer):
    printer = make_printer()
    fresh(printer)
    assert answers(printer, "M112") == ["Error:Printer halted. kill() called!"]
    assert answers(printer, "M105") == []
    printer.reset()
    assert answers(printer, "M105")[-1] == "ok T:21.3 /0.0 B:21.0 /0.0 @:0 B@:0"


def test_lost_ok_keeps_the_line_accepted(make_printer):
    printer = make_printer(lost_ok_rate=1.0)
    fresh_lines = answers(printer, "M110 N0")
    assert not any(line.startswith("ok") for line in fresh_lines)
    assert answers(printer, numbered(1, "G1 X1")) == []
    assert printer.accepted == ["M110 N0", "G1 X1"]


def test_lose_oks_on_demand_drops_exactly_that_many(make_printer):
    printer = make_printer()
    fresh(printer)
    printer.lose_oks(2)
    assert answers(printer, numbered(1, "G1 X1"), numbered(2, "G1 X2")) == []
    assert answers(printer, numbered(3, "G1 X3")) == ["ok"]
    assert printer.accepted[-3:] == ["G1 X1", "G1 X2", "G1 X3"]


def test_without_busy_protocol_long_commands_are_silent(make_printer):
    printer = make_printer(busy_protocol=False, time_scale=20.0, homing_time=5.0, busy_interval=1.0)
    fresh(printer)
    assert answers(printer, "G28") == ["ok"]


def test_several_extruders(make_printer):
    printer = make_printer(extruder_count=2, time_scale=1000.0, heat_rate=100.0)
    fresh(printer)
    answers(printer, "M104 T1 S50", "T1")
    output = answers(printer, "M109 T1 S50", "M105", "T2")
    report = next(line for line in output if line.startswith("ok T:"))
    match = re.fullmatch(r"ok T:(\S+) /50.0 B:21.0 /0.0 T0:21.3 /0.0 T1:(\S+) /50.0 @:\d+ B@:0 @0:0 @1:\d+", report)
    assert match, report
    assert match.group(1) == match.group(2) and float(match.group(1)) >= 49.0
    assert "echo:T2 Invalid extruder" in output


def test_m118_echoes_text_with_the_requested_prefix(make_printer):
    printer = make_printer()
    fresh(printer)
    assert answers(printer, "M118 A1 action:notification Hi", "M118 E1 hello", "M118 plain") == [
        "// action:notification Hi", "ok", "echo:hello", "ok", "plain", "ok"]


def test_autoreport_can_be_switched_off(make_printer):
    printer = make_printer(autoreport_temp=False, autoreport_sd=False)
    fresh(printer)
    output = answers(printer, "M155 S2", "M27 S2")
    assert output == ['echo:Unknown command: "M155 S2"', "ok", 'echo:Unknown command: "M27 S2"', "ok"]


def test_comments_and_blank_lines_are_ignored(make_printer):
    printer = make_printer()
    fresh(printer)
    assert answers(printer, "", "; a comment", "G1 X1 ; move") == ["ok"]
    assert printer.accepted[-1] == "G1 X1"
