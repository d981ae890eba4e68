"""The virtual printer answers like Marlin: driven with raw bytes, as a host would."""

import pytest
from comm_support import Host, numbered

from octohost.comm.virtual import VirtualOptions, VirtualPrinter, checksum


@pytest.fixture
def make_printer():
    printers = []

    def make(**options):
        printer = VirtualPrinter(VirtualOptions(**options))
        printers.append(printer)
        return printer

    yield make
    for printer in printers:
        printer.close()


@pytest.fixture
def host(make_printer):
    return Host(make_printer(time_scale=50.0, heat_rate=200.0))


def test_checksum_is_xor_of_bytes_before_star():
    assert checksum("N1 G1 X1") == 0x4E ^ 0x31 ^ 0x20 ^ 0x47 ^ 0x31 ^ 0x20 ^ 0x58 ^ 0x31


def test_banner_starts_with_start_and_names_the_firmware(make_printer):
    host = Host(make_printer(firmware_name="Marlin 9.9"))
    assert host.banner[:2] == ["start", "echo:Marlin 9.9"]
    assert host.banner[-1] == "echo:SD card ok"


def test_numbered_lines_in_order_are_accepted_without_prefix_and_checksum(host):
    assert host.send(numbered(0, "M110 N0")) == ["ok"]
    assert host.send(numbered(1, "G1 X1 Y2")) == ["ok"]
    assert host.send(numbered(2, "G1 X3")) == ["ok"]
    assert host.printer.accepted == ["M110 N0", "G1 X1 Y2", "G1 X3"]


def test_wrong_line_number_asks_for_the_expected_line(host):
    host.send(numbered(0, "M110 N0"))
    host.send(numbered(1, "G1 X1"))
    assert host.send(numbered(3, "G1 X3")) == [
        "Error:Line Number is not Last Line Number+1, Last Line: 1", "Resend: 2", "ok"]
    assert host.send(numbered(2, "G1 X2")) == ["ok"]
    assert host.printer.accepted == ["M110 N0", "G1 X1", "G1 X2"]


def test_bad_checksum_asks_for_a_resend_and_is_not_accepted(host):
    host.send(numbered(0, "M110 N0"))
    good = numbered(1, "G1 X1")
    bad = good.rsplit("*", 1)[0] + "*" + str((checksum("N1 G1 X1") + 1) % 256)
    assert host.send(bad) == ["Error:checksum mismatch, Last Line: 0", "Resend: 1", "ok"]
    assert host.printer.accepted == ["M110 N0"]


def test_missing_checksum_and_missing_line_number(host):
    host.send(numbered(0, "M110 N0"))
    assert host.send("N1 G1 X1") == ["Error:No Checksum with line number, Last Line: 0", "Resend: 1", "ok"]
    assert host.send("G1 X1*12") == ["Error:No Line Number with checksum, Last Line: 0", "Resend: 1", "ok"]


def test_m110_sets_the_expected_line_number(host):
    host.send(numbered(41, "M110 N41"))
    assert host.send(numbered(42, "G1 X1")) == ["ok"]
    host.send("M110 N7")
    assert host.send(numbered(8, "G1 X2")) == ["ok"]


def test_m105_reports_temperatures_on_the_ok_line(host):
    assert host.send("M105") == ["ok T:21.3 /0.0 B:21.0 /0.0 @:0 B@:0"]


def test_unknown_command_is_echoed_and_acknowledged(host):
    assert host.send("M9999") == ['echo:Unknown command: "M9999"', "ok"]


def test_m115_reports_firmware_and_capabilities(make_printer):
    host = Host(make_printer(advanced_ok=True))
    lines = host.send("M115")
    assert lines[0].startswith("FIRMWARE_NAME:Marlin 2.1.2 (octohost virtual) ")
    assert "PROTOCOL_VERSION:1.0" in lines[0] and "EXTRUDER_COUNT:1" in lines[0]
    caps = dict(line[4:].rsplit(":", 1) for line in lines[1:-1])
    assert caps["AUTOREPORT_TEMP"] == "1" and caps["AUTOREPORT_SD_STATUS"] == "1"
    assert caps["EXTENDED_M20"] == "1" and caps["BUSY_PROTOCOL"] == "1" and caps["ADVANCED_OK"] == "1"
    assert lines[-1].startswith("ok")


def test_moves_and_m114(host):
    host.send("G1 X10 Y20 Z0.3 E1")
    host.send("G91")
    host.send("G1 X5 E2")
    assert host.send("M114")[0].startswith("X:15.00 Y:20.00 Z:0.30 E:3.00 Count")


def test_m109_waits_for_the_hotend_and_reports_while_waiting(make_printer):
    host = Host(make_printer(time_scale=20.0, heat_rate=50.0))
    lines = host.send("M109 S200")
    reports = [line for line in lines if line.endswith("W:?")]
    assert reports, lines
    assert reports[0].startswith("T:") and "/200.0" in reports[0]
    actual = float(host.send("M105")[0].split("T:")[1].split()[0])
    assert actual >= 199.0


def test_m190_waits_for_the_bed(host):
    host.send("M190 S60")
    answer = host.send("M105")[0]
    assert float(answer.split("B:")[1].split()[0]) >= 59.0


def test_g28_sends_busy_while_homing(make_printer):
    host = Host(make_printer(time_scale=10.0, homing_time=5.0, busy_interval=1.0))
    host.send("G1 X5 Y5")
    lines = host.send("G28")
    assert "echo:busy: processing" in lines
    assert host.send("M114")[0].startswith("X:0.00 Y:0.00 Z:0.00")


def test_advanced_ok_reports_line_and_buffers(make_printer):
    host = Host(make_printer(advanced_ok=True))
    host.send(numbered(0, "M110 N0"))
    assert host.send(numbered(1, "G1 X1")) == ["ok N1 P15 B3"]


def test_m155_autoreports_temperatures(make_printer):
    host = Host(make_printer(time_scale=50.0))
    host.send("M155 S1")
    assert host.read_line().startswith("T:21.3 /0.0 B:21.0 /0.0")
    host.send("M155 S0")


def test_inject_emits_a_line(host):
    host.printer.inject("// action:pause")
    assert host.read_line() == "// action:pause"


def test_a_long_numbered_stream_is_accepted_in_order(make_printer):
    printer = make_printer()
    host = Host(printer)
    host.send(numbered(0, "M110 N0"))
    moves = [f"G1 X{i % 200} Y{i % 7}" for i in range(2000)]
    for n, move in enumerate(moves, start=1):
        assert host.send(numbered(n, move)) == ["ok"]
    assert printer.accepted == ["M110 N0"] + moves


def test_the_printer_remembers_a_bounded_number_of_accepted_commands(make_printer):
    """A 200k-line print must not keep 200k strings: only the latest ``accepted_kept``, counting all."""
    assert VirtualOptions().accepted_kept is not None
    printer = make_printer(accepted_kept=50)
    host = Host(printer)
    host.send(numbered(0, "M110 N0"))
    moves = [f"G1 X{i}" for i in range(300)]
    for n, move in enumerate(moves, start=1):
        assert host.send(numbered(n, move)) == ["ok"]
    assert printer.accepted == moves[-50:]
    assert printer.accepted_count == 301
    assert len(printer.firmware.accepted) == 50


@pytest.mark.parametrize("bad", [{"lost_ok_rate": 1.5}, {"time_scale": 0}, {"sd_print_rate": 0}, {"rx_buffer_size": 0},
                                 {"extruder_count": 0}, {"ok_delay": -1}, {"busy_interval": -1},
                                 {"accepted_kept": -1}])
def test_options_refuse_values_that_make_no_sense(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        VirtualOptions(**bad)


def test_ok_delay_answers_every_line_from_the_firmware_thread(make_printer):
    host = Host(make_printer(ok_delay=0.01))
    host.printer.write(b"G1 X1\nG1 X2\nM105\n")
    assert [host.read_line() for _ in range(3)] == ["ok", "ok", "ok T:21.3 /0.0 B:21.0 /0.0 @:0 B@:0"]
    assert host.printer.accepted == ["G1 X1", "G1 X2", "M105"]
