"""The pure line protocol, against lines as Marlin, Prusa and Klipper send them."""

import pytest

from octohost.comm import protocol
from octohost.comm.protocol import Kind, classify


def xor(text):
    value = 0
    for char in text.encode():
        value ^= char
    return value


# -- outgoing -------------------------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    ("G1 X10 Y20 ; move", "G1 X10 Y20"),
    ("; only a comment", ""),
    ("   ", ""),
    ("M117 Hello", "M117 Hello"),
    ('M117 "a;b" ; note', 'M117 "a;b"'),
    ("M117 50\\; done ; x", "M117 50\\; done"),
    ("G28\r\n", "G28"),
])
def test_strip_comment(line, expected):
    assert protocol.strip_comment(line) == expected


@pytest.mark.parametrize("cmd, expected", [
    ("G1 X10", ("G1", None)),
    ("G01 X10", ("G1", None)),
    ("g28", ("G28", None)),
    ("M80.1", ("M80", "1")),
    ("M110 N0", ("M110", None)),
    ("T0", ("T", None)),
    ("T12", ("T", None)),
    ("F3000", ("F", None)),
    ("@pause", (None, None)),
    ("", (None, None)),
    ("hello", (None, None)),
])
def test_gcode_and_subcode(cmd, expected):
    assert protocol.gcode_and_subcode(cmd) == expected


def test_at_command_parsing():
    assert protocol.parse_at_command("@pause") == ("pause", "")
    assert protocol.parse_at_command("@foo bar  baz ") == ("foo", "bar  baz")
    assert protocol.parse_at_command("G1 X1") is None


def test_frame_numbers_and_checksums_a_command():
    data = protocol.frame(12, "G1 X10")
    assert data == f"N12 G1 X10*{xor('N12 G1 X10')}\n".encode()
    assert protocol.frame(0, "M110 N0") == b"N0 M110 N0*125\n"


def test_parameter():
    assert protocol.parameter("G1 X1 Z0.3 F3000", "Z") == 0.3
    assert protocol.parameter("G1 Z-1.5", "Z") == -1.5
    assert protocol.parameter("G1 X1", "Z") is None


# -- incoming -------------------------------------------------------------------------------------

def test_plain_ok_has_no_extras():
    assert classify("ok") == (Kind.OK, {})


def test_advanced_ok_extras():
    kind, extras = classify("ok N1234 P15 B3")
    assert kind == Kind.OK and extras == {"N": 1234, "P": 15, "B": 3}


def test_ok_with_temperatures_marlin():
    kind, extras = classify("ok T:210.3 /210.0 B:60.1 /60.0 @:64 B@:0")
    assert kind == Kind.OK
    assert extras["temperatures"] == {"T0": (210.3, 210.0), "B": (60.1, 60.0)}


def test_temperature_autoreport_prusa_multi_field():
    kind, temps = classify("T:24.3 /0.0 B:23.8 /0.0 T0:24.3 /0.0 @:0 B@:0 P:0.0 A:27.6")
    assert kind == Kind.TEMPERATURE
    assert temps == {"T0": (24.3, 0.0), "B": (23.8, 0.0)}


def test_temperatures_with_several_tools_and_chamber():
    kind, temps = classify("T:200.0 /200.0 T0:200.0 /200.0 T1:150.5 /0.0 B:60.0 /60.0 C:35.2 /40.0 @:0")
    assert kind == Kind.TEMPERATURE
    assert temps == {"T0": (200.0, 200.0), "T1": (150.5, 0.0), "B": (60.0, 60.0), "C": (35.2, 40.0)}


def test_temperatures_during_m109_wait():
    kind, temps = classify("T:187.4 E:0 W:?")
    assert kind == Kind.TEMPERATURE and temps == {"T0": (187.4, None)}


def test_klipper_ok_with_temperatures():
    kind, extras = classify("ok B:23.0 /0.0 T0:23.2 /0.0")
    assert extras["temperatures"] == {"B": (23.0, 0.0), "T0": (23.2, 0.0)}


@pytest.mark.parametrize("line, number", [
    ("Resend: 12", 12), ("Resend:12", 12), ("rs N12", 12), ("rs 7", 7), ("Resend: N3", 3)])
def test_resend(line, number):
    assert classify(line) == (Kind.RESEND, number)


def test_checksum_mismatch_is_resend_related_with_last_line():
    kind, error = classify("Error:checksum mismatch, Last Line: 41")
    assert kind == Kind.ERROR
    assert error.resend_related and error.last_line == 41
    assert error.message == "checksum mismatch, Last Line: 41"


@pytest.mark.parametrize("line", [
    "Error:Line Number is not Last Line Number+1, Last Line: 5",
    "Error:No Line Number with checksum, Last Line: 5",
    "Error:No Checksum with line number, Last Line: 5",
])
def test_line_errors_are_resend_related(line):
    assert classify(line)[1].resend_related


def test_fatal_errors():
    kind, error = classify("Error:Thermal Runaway, system stopped! Heater_ID: 0")
    assert kind == Kind.ERROR and not error.resend_related and not error.sd_related
    assert error.message == "Thermal Runaway, system stopped! Heater_ID: 0"
    kind, error = classify("!! MCU 'mcu' shutdown: Timer too close")
    assert kind == Kind.ERROR and error.message == "MCU 'mcu' shutdown: Timer too close"


def test_action_commands():
    assert classify("// action:pause") == (Kind.ACTION, ("pause", "pause", ""))
    assert classify("//action:notification Filament low") == (
        Kind.ACTION, ("notification Filament low", "notification", "Filament low"))


def test_firmware_info_marlin():
    line = ("FIRMWARE_NAME:Marlin 2.1.2 (Github) SOURCE_CODE_URL:https://github.com/MarlinFirmware/Marlin "
            "PROTOCOL_VERSION:1.0 MACHINE_TYPE:3D Printer EXTRUDER_COUNT:1 UUID:cede2a2f-41a2-4748-9b12-c55c62f367ff")
    kind, (name, data) = classify(line)
    assert kind == Kind.FIRMWARE_INFO
    assert name == "Marlin 2.1.2 (Github)"
    assert data["SOURCE_CODE_URL"] == "https://github.com/MarlinFirmware/Marlin"
    assert data["MACHINE_TYPE"] == "3D Printer"
    assert data["EXTRUDER_COUNT"] == "1"


def test_firmware_info_prusa_and_klipper():
    _, (name, data) = classify("FIRMWARE_NAME:Prusa-Firmware 3.13.2 based on Marlin FIRMWARE_URL:https://github.com/prusa3d/"
                               " PROTOCOL_VERSION:1.0 MACHINE_TYPE:Prusa i3 MK3S EXTRUDER_COUNT:1")
    assert name == "Prusa-Firmware 3.13.2 based on Marlin" and data["MACHINE_TYPE"] == "Prusa i3 MK3S"
    _, (name, data) = classify("FIRMWARE_NAME:Klipper FIRMWARE_VERSION:v0.12.0-85")
    assert name == "Klipper" and data["FIRMWARE_VERSION"] == "v0.12.0-85"


def test_capabilities():
    assert classify("Cap:AUTOREPORT_TEMP:1") == (Kind.CAPABILITY, ("AUTOREPORT_TEMP", True))
    assert classify("Cap:EXTENDED_M20:0") == (Kind.CAPABILITY, ("EXTENDED_M20", False))


def test_busy_wait_start():
    assert classify("echo:busy: processing")[0] == Kind.BUSY
    assert classify("busy: paused for user")[0] == Kind.BUSY
    assert classify("busy: processing")[0] == Kind.BUSY
    assert classify("echo:busy: paused for user")[0] == Kind.BUSY
    assert classify("echo:M117 printer busy: please wait")[0] == Kind.MESSAGE  # an echo, not a keepalive
    assert classify("wait")[0] == Kind.WAIT
    assert classify("start")[0] == Kind.START


@pytest.mark.parametrize("line, event", [
    ("SD printing byte 123/4567", ("progress", (123, 4567))),
    ("Not SD printing", ("not_printing", None)),
    ("Done printing file", ("done", None)),
    ("File opened: TEST.GCO Size: 1234", ("opened", ("TEST.GCO", 1234))),
    ("File selected", ("selected", None)),
    ("Begin file list", ("list_begin", None)),
    ("End file list", ("list_end", None)),
    ("echo:SD card ok", ("card_ok", None)),
    ("echo:SD init fail", ("card_failed", None)),
    ("Writing to file: x.gco", ("writing", "x.gco")),
    ("Done saving file.", ("saved", None)),
])
def test_sd_lines(line, event):
    assert classify(line) == (Kind.SD, event)


def test_file_list_entries():
    assert protocol.parse_file_list_entry("CUBE~1.GCO 12345 Cube with long name.gcode") == {
        "name": "CUBE~1.GCO", "size": 12345, "display": "Cube with long name.gcode"}
    assert protocol.parse_file_list_entry("TEST.GCO 99") == {"name": "TEST.GCO", "size": 99, "display": "TEST.GCO"}
    assert protocol.parse_file_list_entry("TEST.GCO") == {"name": "TEST.GCO", "size": None, "display": "TEST.GCO"}


def test_position():
    kind, position = classify("X:10.00 Y:20.50 Z:0.30 E:-1.00 Count X:800 Y:1640 Z:120")
    assert kind == Kind.POSITION
    assert position == {"x": 10.0, "y": 20.5, "z": 0.3, "e": -1.0}


def test_messages_and_empty():
    assert classify("echo:Unknown command: \"G123\"") == (Kind.MESSAGE, 'echo:Unknown command: "G123"')
    assert classify("") == (Kind.EMPTY, "")
