"""The virtual printer's SD card: listing, selecting, printing, uploading, deleting."""

import pytest
from comm_support import Host, numbered

from octohost.comm.virtual import VirtualOptions, VirtualPrinter
from octohost.comm.virtual.sdcard import short_name

FILES = {"benchy.gcode": "G28\nG1 X10\n" * 100, "TEST.GCO": b"G1 X1\n", "Long File Name.gcode": "M117 hi\n"}


@pytest.fixture
def make_host():
    printers = []

    def make(**options):
        options.setdefault("sd_files", dict(FILES))
        printer = VirtualPrinter(VirtualOptions(**options))
        printers.append(printer)
        return Host(printer)

    yield make
    for printer in printers:
        printer.close()


def listing(lines):
    assert lines[0] == "Begin file list" and lines[-2] == "End file list" and lines[-1] == "ok"
    return lines[1:-2]


@pytest.mark.parametrize("name, taken, expected", [
    ("TEST.GCO", set(), "TEST.GCO"),
    ("benchy.gcode", set(), "BENCHY~1.GCO"),
    ("test.gco", set(), "TEST.GCO"),
    ("test.gco", {"TEST.GCO"}, "TEST~1.GCO"),
    ("Long File Name.gcode", set(), "LONGFI~1.GCO"),
    ("Long File Name.gcode", {"LONGFI~1.GCO"}, "LONGFI~2.GCO"),
    ("noext", set(), "NOEXT"),
])
def test_short_names_follow_the_fat_rules(name, taken, expected):
    assert short_name(name, taken) == expected


def test_m20_lists_short_names_and_sizes(make_host):
    host = make_host()
    entries = listing(host.send("M20"))
    assert sorted(entries) == sorted([f"BENCHY~1.GCO {len(FILES['benchy.gcode'])}", "TEST.GCO 6", "LONGFI~1.GCO 8"])


def test_m20_l_adds_long_names_with_extended_m20(make_host):
    host = make_host()
    entries = listing(host.send("M20 L"))
    assert "LONGFI~1.GCO 8 Long File Name.gcode" in entries


def test_m20_l_without_extended_m20_lists_short_names_only(make_host):
    host = make_host(extended_m20=False)
    assert "LONGFI~1.GCO 8" in listing(host.send("M20 L"))


@pytest.mark.parametrize("name", ["LONGFI~1.GCO", "Long File Name.gcode", "/longfi~1.gco"])
def test_m23_selects_by_short_or_long_name(make_host, name):
    host = make_host()
    assert host.send(f"M23 {name}") == [
        f"echo:Now fresh file: {name}", "File opened: LONGFI~1.GCO Size: 8", "File selected", "ok"]


def test_m23_of_a_missing_file_fails_openly(make_host):
    host = make_host()
    assert host.send("M23 NOPE.GCO") == ["echo:Now fresh file: NOPE.GCO", "open failed, File: NOPE.GCO.", "ok"]
    assert host.send("M27") == ["Not SD printing", "ok"]


def test_sd_print_progresses_and_finishes(make_host):
    host = make_host(sd_print_rate=1000.0)
    size = len(FILES["benchy.gcode"])
    host.send("M23 benchy.gcode")
    assert host.send("M27") == ["Not SD printing", "ok"]
    host.send("M24")
    status = host.send("M27")[0]
    done, total = map(int, status.removeprefix("SD printing byte ").split("/"))
    assert total == size and 0 <= done < size
    host.send(f"M26 S{size - 20}")
    assert host.read_until(lambda line: line == "Done printing file")
    assert host.send("M27") == ["Not SD printing", "ok"]


def test_pause_seek_and_resume(make_host):
    host = make_host(time_scale=1.0, sd_print_rate=1.0)
    host.send("M23 benchy.gcode")
    host.send("M24")
    host.send("M25")
    host.send("M26 S600")
    assert host.send("M27") == [f"SD printing byte 600/{len(FILES['benchy.gcode'])}", "ok"]
    host.send("M24")
    status = host.send("M27")[0]
    assert int(status.removeprefix("SD printing byte ").split("/")[0]) >= 600


def test_sd_status_autoreport_while_printing(make_host):
    host = make_host(time_scale=20.0, sd_print_rate=10.0)
    host.send("M23 benchy.gcode")
    host.send("M27 S1")
    host.send("M24")
    report = host.read_until(lambda line: line.startswith("SD printing byte"))[-1]
    assert report.endswith(f"/{len(FILES['benchy.gcode'])}")
    host.send("M27 S0")


def test_upload_with_m28_m29_stores_the_lines(make_host):
    host = make_host()
    host.send(numbered(0, "M110 N0"))
    assert host.send(numbered(1, "M28 upload.gcode")) == ["Writing to file: upload.gcode", "ok"]
    body = ["G28", "G1 X1 Y1", "M117 done"]
    for n, line in enumerate(body, start=2):
        assert host.send(numbered(n, line)) == ["ok"]
    assert host.send(numbered(5, "M29")) == ["Done saving file.", "ok"]
    assert host.printer.sd_files["upload.gcode"] == b"G28\nG1 X1 Y1\nM117 done\n"
    assert "UPLOAD~1.GCO 23 upload.gcode" in listing(host.send("M20 L"))


def test_upload_lines_are_protocol_checked(make_host):
    host = make_host()
    host.send(numbered(0, "M110 N0"))
    host.send(numbered(1, "M28 up.gco"))
    assert host.send(numbered(3, "G1 X1"))[0].startswith("Error:Line Number is not Last Line Number+1")
    host.send(numbered(2, "G1 X2"))
    host.send(numbered(3, "M29"))
    assert host.printer.sd_files["up.gco"] == b"G1 X2\n"


def test_m30_deletes(make_host):
    host = make_host()
    assert host.send("M30 TEST.GCO") == ["File deleted:TEST.GCO", "ok"]
    assert host.send("M30 TEST.GCO") == ["Deletion failed, File: TEST.GCO.", "ok"]
    assert "TEST.GCO" not in host.printer.sd_files


def test_release_and_init(make_host):
    host = make_host()
    assert host.send("M22") == ["echo:SD card released", "ok"]
    assert host.send("M20") == ["echo:No media", "ok"]
    assert host.send("M21") == ["echo:SD card ok", "ok"]
    assert len(listing(host.send("M20"))) == 3


def test_printer_without_sd_card(make_host):
    host = make_host(sd_card=False, sd_files={})
    assert host.send("M21") == ["echo:SD init fail", "ok"]
    assert "Cap:SDCARD:0" in host.send("M115")


def test_files_survive_a_firmware_reset(make_host):
    host = make_host()
    host.printer.reset()
    host.read_until(lambda line: line == "echo:SD card ok")
    assert len(listing(host.send("M20"))) == 3
