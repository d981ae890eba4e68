"""open_transport: plugin factories first, then VIRTUAL, URLs and device paths, with clear errors."""

import errno
import logging
import os
import socket
import textwrap
import threading

import pytest
import serial

from octohost.comm import transport as transport_module
from octohost.comm.transport import TransportError, open_transport
from octohost.comm.virtual import VirtualOptions, VirtualPrinter, serve_pty
from octohost.plugin import PluginManager
from octohost.settings import Settings


def read_until_ok(port):
    lines = []
    while not lines or not lines[-1].startswith(b"ok"):
        line = port.readline()
        assert line.endswith(b"\n"), f"no complete line (got {line!r} after {lines!r})"
        lines.append(line.rstrip(b"\n"))
    return lines


def assert_reaches_the_printer(port):
    """``M105`` through ``port`` gets the virtual printer's temperature ok; closes the port."""
    try:
        port.write(b"M105\n")
        assert read_until_ok(port) == [b"ok T:21.3 /0.0 B:21.0 /0.0 @:0 B@:0"]
    finally:
        port.close()


class SerialBridge:
    """A one-connection TCP serial bridge on 127.0.0.1 with a virtual printer behind it (like ser2net)."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.printer = VirtualPrinter(VirtualOptions(firmware_name="Bridged Marlin"))
        self.printer.timeout = 0.05
        self.stopping = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        connection, _ = self.listener.accept()
        connection.settimeout(0.05)
        with connection:
            while not self.stopping:
                try:
                    data = connection.recv(4096)
                    if not data:
                        break
                    self.printer.write(data)
                except TimeoutError:
                    pass
                waiting = self.printer.read(65536)
                if waiting:
                    connection.sendall(waiting)

    def close(self):
        self.stopping = True
        self.listener.close()
        self.thread.join()
        self.printer.close()


def test_virtual_port_is_the_built_in_printer_with_the_given_options():
    port = open_transport("VIRTUAL", 115200, 2.0, virtual_options=VirtualOptions(firmware_name="Test FW 1.0"))
    try:
        assert isinstance(port, VirtualPrinter)
        assert port.port == "VIRTUAL" and port.timeout == 2.0
        port.write(b"M115\n")
        lines = read_until_ok(port)
        assert any(line.startswith(b"FIRMWARE_NAME:Test FW 1.0 ") for line in lines)
    finally:
        port.close()


def test_virtual_port_falls_back_to_the_serial_virtual_settings(tmp_path):
    settings = Settings(str(tmp_path / "base"))
    settings.set("serial.virtual.firmwareName", "Configured FW")
    port = open_transport("VIRTUAL", 115200, 2.0, settings=settings)
    try:
        port.write(b"M115\n")
        assert any(line.startswith(b"FIRMWARE_NAME:Configured FW ") for line in read_until_ok(port))
    finally:
        port.close()


def test_invalid_virtual_settings_are_a_transport_error(tmp_path):
    settings = Settings(str(tmp_path / "base"))
    settings.set("serial.virtual.lostOkRate", 3.0)
    with pytest.raises(TransportError, match=r"could not open VIRTUAL: invalid serial.virtual settings \(lost_ok_rate"):
        open_transport("VIRTUAL", 115200, 1.0, settings=settings)


def test_socket_url_reaches_a_network_serial_bridge():
    bridge = SerialBridge()
    try:
        port = open_transport(f"socket://127.0.0.1:{bridge.port}", 115200, 2.0)
        try:
            port.write(b"M115\n")
            lines = read_until_ok(port)
            assert any(line.startswith(b"FIRMWARE_NAME:Bridged Marlin ") for line in lines)
            assert bridge.printer.accepted == ["M115"]
        finally:
            port.close()
    finally:
        bridge.close()


def test_socket_url_with_nobody_listening_says_connection_refused():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        free_port = probe.getsockname()[1]
    with pytest.raises(TransportError, match=rf"could not open socket://127.0.0.1:{free_port}: connection refused"):
        open_transport(f"socket://127.0.0.1:{free_port}", 115200, 1.0)


@pytest.mark.parametrize("url, message", [
    ("socket://no-port-here", "expected socket://HOST:PORT"),
    ("rfc2217://", "expected rfc2217://HOST:PORT"),
    ("carrier-pigeon://coop", "not a valid serial URL"),
])
def test_malformed_urls_are_refused_clearly(url, message):
    with pytest.raises(TransportError, match=message):
        open_transport(url, 115200, 1.0)


def test_loop_url_opens():
    port = open_transport("loop://", 0, 1.0)
    try:
        port.write(b"ping\n")
        assert port.readline() == b"ping\n"
    finally:
        port.close()


def test_device_path_symlink_is_opened_and_reported_as_given(tmp_path):
    server = serve_pty()
    link = tmp_path / "printer"
    link.symlink_to(server.path)
    try:
        port = open_transport(str(link), 115200, 2.0)
        assert_reaches_the_printer(port)
        assert port.port == str(link)
    finally:
        server.close()


def test_missing_device_says_so():
    with pytest.raises(TransportError, match=r"could not open /dev/ttyOCTOHOST9: no such device"):
        open_transport("/dev/ttyOCTOHOST9", 115200, 1.0)


def test_a_file_that_is_no_serial_port_says_so(tmp_path):
    path = tmp_path / "notaport"
    path.write_text("x")
    with pytest.raises(TransportError, match=rf"could not open {path}: not a serial port"):
        open_transport(str(path), 115200, 1.0)


def test_permission_denied_points_at_the_dialout_group(monkeypatch):
    def refuse(path, *args, **kwargs):
        raise serial.SerialException(errno.EACCES,
                                     f"could not open port {path}: [Errno 13] Permission denied: '{path}'")

    monkeypatch.setattr(transport_module.serial, "Serial", refuse)
    with pytest.raises(TransportError) as raised:
        open_transport("/dev/ttyUSB0", 115200, 1.0)
    assert str(raised.value) == "could not open /dev/ttyUSB0: permission denied — is the user in the dialout group?"


@pytest.mark.parametrize("port", [None, "AUTO", "auto"])
def test_auto_must_be_detected_first(port):
    with pytest.raises(TransportError, match="detect one first"):
        open_transport(port, 115200, 1.0)


def test_device_with_baudrate_zero_must_be_detected_first():
    with pytest.raises(TransportError, match="detect it first"):
        open_transport("/dev/ttyUSB0", 0, 1.0)


FACTORY_PLUGIN = '''
from octohost.comm.virtual import VirtualOptions, VirtualPrinter

calls = []

def factory(comm_instance, port, baudrate, read_timeout, *args, **kwargs):
    calls.append((comm_instance, port, baudrate, read_timeout))
    if port != "PLUGINPORT":
        return None
    printer = VirtualPrinter(VirtualOptions(firmware_name="Plugin Marlin"))
    printer.port = port
    printer.timeout = read_timeout
    return printer

__plugin_name__ = "Factory"
__plugin_hooks__ = {"octoprint.comm.transport.serial.factory": factory}
'''

BROKEN_FACTORY_PLUGIN = '''
def factory(comm_instance, port, baudrate, read_timeout, *args, **kwargs):
    raise RuntimeError("factory exploded")

__plugin_hooks__ = {"octoprint.comm.transport.serial.factory": (factory, 1)}
'''


@pytest.fixture
def plugin_manager(tmp_path):
    settings = Settings(str(tmp_path / "base"))
    folder = settings.folder("plugins")
    for name, source in (("transport_factory", FACTORY_PLUGIN), ("transport_broken", BROKEN_FACTORY_PLUGIN)):
        with open(os.path.join(folder, name + ".py"), "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(source))
    manager = PluginManager(settings)
    manager.discover(bundled=False, entry_points=False)
    return manager


def test_factory_hook_from_a_plugin_file_opens_its_port(plugin_manager, caplog):
    comm = object()
    with caplog.at_level(logging.ERROR):
        port = open_transport("PLUGINPORT", 250000, 3.0, plugin_manager=plugin_manager, comm_instance=comm)
    try:
        assert port.port == "PLUGINPORT" and port.timeout == 3.0
        port.write(b"M115\n")
        assert any(line.startswith(b"FIRMWARE_NAME:Plugin Marlin ") for line in read_until_ok(port))
    finally:
        port.close()
    calls = plugin_manager.plugins["transport_factory"].module.calls
    assert calls == [(comm, "PLUGINPORT", 250000, 3.0)]
    assert any("transport_broken" in record.getMessage() and "factory" in record.getMessage()
               for record in caplog.records)


def test_factory_returning_none_falls_through_to_the_built_in_ports(plugin_manager):
    port = open_transport("VIRTUAL", 115200, 1.0, plugin_manager=plugin_manager)
    try:
        assert isinstance(port, VirtualPrinter) and port.port == "VIRTUAL"
    finally:
        port.close()
    assert plugin_manager.plugins["transport_factory"].module.calls[-1][1] == "VIRTUAL"


def test_low_latency_is_asked_of_a_device_and_a_refusal_keeps_the_port(caplog):
    """A pseudo-terminal has no serial driver to take ``ASYNC_LOW_LATENCY``: the port opens and
    works anyway, with a warning naming the setting."""
    server = serve_pty()
    try:
        with caplog.at_level(logging.WARNING, logger="octohost.comm.transport"):
            port = open_transport(server.path, 115200, 2.0, low_latency=True)
        assert_reaches_the_printer(port)
    finally:
        server.close()
    assert [record.getMessage() for record in caplog.records] == [
        f"port {server.path}: the driver refused low latency mode (serial.lowLatency); continuing without it: "
        "Failed to update ASYNC_LOW_LATENCY flag to True: [Errno 25] Inappropriate ioctl for device"]


@pytest.mark.parametrize("low_latency, asked", [(True, [True]), (False, [])])
def test_low_latency_is_set_only_when_asked(monkeypatch, low_latency, asked):
    """A driver that takes it (a USB serial adapter's; none exists here, so pyserial's ioctl is
    replaced) is asked once per open, and only with ``serial.lowLatency`` on."""
    calls = []
    monkeypatch.setattr(serial.Serial, "set_low_latency_mode", lambda self, on: calls.append(on), raising=False)
    server = serve_pty()
    try:
        open_transport(server.path, 115200, 2.0, low_latency=low_latency).close()
    finally:
        server.close()
    assert calls == asked
