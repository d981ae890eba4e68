"""Opening the byte pipe to the printer: plugin factories, the virtual printer, URLs, device paths.

Whatever opens, the host loops get a pyserial-like object (``read``, ``write``, ``in_waiting``,
``timeout``, ``close``). Failures become one exception type whose message says what to do.
"""

from __future__ import annotations

import errno
import logging
import re
from typing import Any, Protocol

import serial

from octohost.plugin.handlers import HandlerSource, run_handlers

from .ports import VIRTUAL_PORT

log = logging.getLogger(__name__)

FACTORY_HOOK = "comm.transport.serial.factory"

_HOST_PORT = re.compile(r"^\[?[\w.:-]+\]?:\d{1,5}(/|\?|$)")

_ERRNO_HINTS = {
    errno.ENOENT: "no such device — is the printer plugged in and switched on?",
    errno.ENODEV: "no such device — is the printer plugged in and switched on?",
    errno.ENXIO: "no such device — is the printer plugged in and switched on?",
    errno.EACCES: "permission denied — is the user in the dialout group?",
    errno.EPERM: "permission denied — is the user in the dialout group?",
    errno.EBUSY: "device busy — is another program using the port?",
    errno.ENOTTY: "not a serial port",
    errno.ECONNREFUSED: "connection refused — is the serial bridge running on that host and port?",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ETIMEDOUT: "connection timed out",
}


class Transport(Protocol):
    """The byte pipe the comm loops use: what pyserial's ``Serial`` offers, and all they need of it.

    Hand ``MachineCom(..., transport_factory=...)`` a callable returning one to connect over
    anything (tests: an in-process scripted firmware).
    """

    timeout: float | None

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    def close(self) -> None: ...


class TransportError(Exception):
    """A port could not be opened; the message names the port and says why."""


def open_transport(port: str | None, baudrate: int | None, read_timeout: float, *,
                   plugin_manager: HandlerSource | None = None, comm_instance: Any = None,
                   virtual_options: Any = None, settings: Any = None, low_latency: bool = False) -> Any:
    """Open ``port`` and return a serial-like object.

    Order: the ``comm.transport.serial.factory`` handlers (first non-None result wins; a raising
    handler is logged and skipped), then ``VIRTUAL``, then URLs that pyserial knows
    (``socket://``, ``rfc2217://``, ``loop://``, ...), then a device path, opened and reported under
    the path as given (symlinks stay unresolved).
    Port ``AUTO``/None and baud rate 0 must be resolved by detection first (see ``ports``), after
    asking the plugins with them (:func:`plugin_transport`).
    ``VIRTUAL`` uses ``virtual_options``, else the ``serial.virtual`` part of ``settings``, else defaults.
    ``low_latency`` (``serial.lowLatency``) asks a device path's driver for low latency mode.
    """
    transport = plugin_transport(port, baudrate, read_timeout, plugin_manager, comm_instance)
    if transport is not None:
        return transport
    if port is None or str(port).upper() == "AUTO":
        raise TransportError("no port given: detect one first (port AUTO) or choose one from the port list")
    if port == VIRTUAL_PORT:
        from .virtual import VirtualOptions, VirtualPrinter, options_from_settings

        if virtual_options is None:
            try:
                virtual_options = options_from_settings(settings) if settings is not None else VirtualOptions()
            except (TypeError, ValueError) as exc:
                raise TransportError(f"could not open {port}: invalid serial.virtual settings ({exc})") from exc
        printer = VirtualPrinter(virtual_options)
        printer.timeout = read_timeout
        return printer
    if "://" in port:
        return _open_url(port, baudrate, read_timeout)
    device = _open_device(port, baudrate, read_timeout)
    if low_latency:
        request_low_latency(device, port)
    return device


def request_low_latency(device: Any, port: str) -> bool:
    """Set ``ASYNC_LOW_LATENCY`` on an open pyserial port, as OctoPrint's ``serial.lowLatency`` does.

    Whether it helps is the driver's business (FTDI adapters shorten their latency timer from their
    own default to 1 ms); a port that refuses it (a pseudo-terminal, a driver without the ioctl)
    works as before, so a refusal is logged, never raised. Returns whether the driver took it.
    """
    request = getattr(device, "set_low_latency_mode", None)
    if request is None:
        log.info("port %s: low latency mode is not available on this platform", port)
        return False
    try:
        request(True)
    except (ValueError, OSError) as exc:  # pyserial wraps the ioctl's OSError in ValueError
        log.warning("port %s: the driver refused low latency mode (serial.lowLatency); continuing without it: %s",
                    port, exc)
        return False
    log.info("port %s: low latency mode on", port)
    return True


def plugin_transport(port: str | None, baudrate: int | None, read_timeout: float,
                     plugin_manager: HandlerSource | None, comm_instance: Any = None) -> Any:
    """The first ``comm.transport.serial.factory`` handler's transport for ``port`` at ``baudrate``, or
    None. Asked also with port ``AUTO``/None and baud rate 0 before octohost detects anything, as
    OctoPrint asks them: a plugin may find its printer its own way."""
    if plugin_manager is None:
        return None
    for plugin_id, transport in run_handlers(
            FACTORY_HOOK, plugin_manager.handlers(FACTORY_HOOK),
            lambda factory: factory(comm_instance, port, baudrate, read_timeout), subject=port):
        if transport is not None:
            log.info("port %s opened by plugin %s", port, plugin_id)
            return transport
    return None


def _open_url(url, baudrate, read_timeout):
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("socket", "rfc2217") and not _HOST_PORT.match(url.split("://", 1)[1]):
        raise TransportError(f"could not open {url}: expected {scheme}://HOST:PORT")
    try:
        return serial.serial_for_url(url, baudrate=baudrate or 115200, timeout=read_timeout)
    except (ValueError, TypeError) as exc:
        raise TransportError(f"could not open {url}: not a valid serial URL ({exc})") from exc
    except (serial.SerialException, OSError) as exc:
        raise TransportError(f"could not open {url}: {_reason(exc)}") from exc


def _open_device(path, baudrate, read_timeout):
    if not baudrate or baudrate <= 0:
        raise TransportError(f"could not open {path}: baud rate {baudrate!r} is not usable; "
                             "detect it first (baud rate 0)")
    try:
        return serial.Serial(path, baudrate, timeout=read_timeout)
    except ValueError as exc:
        raise TransportError(f"could not open {path}: {exc}") from exc
    except (serial.SerialException, OSError) as exc:
        raise TransportError(f"could not open {path}: {_reason(exc)}") from exc


def _reason(exc):
    """A hint for errnos people can act on, else pyserial's own words."""
    code = getattr(exc, "errno", None)
    cause = exc.__cause__ or exc.__context__
    if code is None and cause is not None:
        code = getattr(cause, "errno", None)
        if code is None and cause.args and isinstance(cause.args[0], int):
            code = cause.args[0]  # termios.error is a plain (errno, text) tuple
    if code in _ERRNO_HINTS:
        return _ERRNO_HINTS[code]
    return re.sub(r"^(\[Errno -?\d+\] )?(could not open port \S+: )?", "", str(exc), flags=re.IGNORECASE)
