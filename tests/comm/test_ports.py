"""Port and baud rate listing: system ports, additionalPorts globs, the port-name hook, VIRTUAL."""

import logging
import os
import textwrap

import pytest
from serial.tools.list_ports_common import ListPortInfo

from octohost.comm import ports
from octohost.plugin import PluginManager


@pytest.fixture
def system(monkeypatch):
    """Pretend the kernel reports these devices (hwid 'n/a' is how absent UARTs show up)."""
    devices = []

    def comports():
        infos = []
        for device, hwid in devices:
            info = ListPortInfo(device, skip_link_detection=True)
            info.hwid = hwid
            infos.append(info)
        return infos

    monkeypatch.setattr(ports.serial.tools.list_ports, "comports", comports)
    return devices


def test_system_ports_without_placeholder_uarts_then_virtual(settings, system):
    system += [("/dev/ttyUSB0", "USB VID:PID=1A86:7523"), ("/dev/ttyS0", "n/a"),
               ("/dev/ttyACM0", "USB VID:PID=2341:0042")]
    assert ports.list_ports(settings) == ["/dev/ttyACM0", "/dev/ttyUSB0", "VIRTUAL"]


def test_real_machine_listing_ends_with_virtual_and_has_no_placeholders(settings):
    listed = ports.list_ports(settings)
    assert listed[-1] == "VIRTUAL"
    assert "/dev/ttyS0" not in listed or any(
        info.device == "/dev/ttyS0" and info.hwid != "n/a" for info in ports.serial.tools.list_ports.comports())


def test_additional_ports_globs_are_reported_under_the_matched_path(settings, system, tmp_path):
    devices = tmp_path / "dev"
    devices.mkdir()
    target = tmp_path / "ttyREAL0"
    target.write_text("")
    (devices / "printer-left").symlink_to(target)
    (devices / "printer-right").symlink_to(target)
    (devices / "other").symlink_to(target)
    settings.set("serial.additionalPorts", [str(devices / "printer-*"), str(tmp_path / "nothing-*")])
    assert ports.list_ports(settings) == [str(devices / "printer-left"), str(devices / "printer-right"), "VIRTUAL"]


ADDITIONAL_NAMES_PLUGIN = '''
seen = []

def names(candidates, *args, **kwargs):
    seen.append(list(candidates))
    return ["NETPRINTER", "/dev/ttyUSB0"]

__plugin_hooks__ = {"octoprint.comm.transport.serial.additional_port_names": names}
'''

BROKEN_NAMES_PLUGIN = '''
def raising(candidates, *args, **kwargs):
    raise RuntimeError("no names today")

__plugin_hooks__ = {"octoprint.comm.transport.serial.additional_port_names": (raising, 1)}
'''

WRONG_TYPE_PLUGIN = '''
def names(candidates, *args, **kwargs):
    return "NOT-A-LIST"

__plugin_hooks__ = {"octoprint.comm.transport.serial.additional_port_names": (names, 2)}
'''


def _manager(settings, plugins):
    folder = settings.folder("plugins")
    for name, source in plugins.items():
        with open(os.path.join(folder, name + ".py"), "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(source))
    manager = PluginManager(settings)
    manager.discover(bundled=False, entry_points=False)
    return manager


def test_additional_port_names_hook_sees_the_candidates_and_adds_names(settings, system, caplog):
    system.append(("/dev/ttyUSB0", "USB VID:PID=1A86:7523"))
    manager = _manager(settings, {"names_ok": ADDITIONAL_NAMES_PLUGIN, "names_broken": BROKEN_NAMES_PLUGIN,
                                  "names_wrong": WRONG_TYPE_PLUGIN})
    with caplog.at_level(logging.WARNING):
        listed = ports.list_ports(settings, manager)
    assert listed == ["/dev/ttyUSB0", "NETPRINTER", "VIRTUAL"]
    assert manager.plugins["names_ok"].module.seen == [["/dev/ttyUSB0"]]
    messages = " ".join(record.getMessage() for record in caplog.records)
    assert "names_broken" in messages and "names_wrong" in messages


def test_baudrates_are_standard_plus_additional_fastest_first(settings):
    settings.set("serial.additionalBaudrates", [500000, 115200, 74880])
    assert ports.baudrates(settings) == [500000, 250000, 230400, 115200, 74880, 57600, 38400, 19200, 9600]


def test_detection_tries_the_preferred_port_then_likely_boards_not_virtual(settings, system):
    system += [("/dev/ttyAMA0", "3F201000.serial"), ("/dev/ttyUSB1", "USB"), ("/dev/ttyACM0", "USB"),
               ("/dev/rfcomm0", "bluetooth")]
    assert ports.detection_ports(settings) == ["/dev/ttyACM0", "/dev/ttyUSB1", "/dev/ttyAMA0", "/dev/rfcomm0"]
    assert ports.detection_ports(settings, preferred="/dev/rfcomm0")[0] == "/dev/rfcomm0"


def test_detection_baudrates_put_the_preferred_rate_first(settings):
    rates = ports.detection_baudrates(settings, preferred=115200)
    assert rates[0] == 115200 and sorted(rates[1:], reverse=True) == rates[1:] and rates.count(115200) == 1


def test_detection_finds_virtual_only_when_no_other_port_exists(settings, system):
    """As OctoPrint's autodetection finds its virtual printer; never as a fallback for real hardware."""
    assert ports.detection_ports(settings) == ["VIRTUAL"]
    system.append(("/dev/ttyUSB0", "USB"))
    assert ports.detection_ports(settings) == ["/dev/ttyUSB0"]
