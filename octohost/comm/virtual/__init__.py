"""A Marlin-like printer for tests, benchmarks and trying octohost without hardware.

``VirtualPrinter`` runs in-process and looks like a pyserial port (port name ``VIRTUAL``);
``serve_pty`` puts the same printer behind a pseudo-terminal any host program can open.
"""

from .firmware import checksum
from .options import VirtualOptions, options_from_settings
from .printer import VIRTUAL_PORT, VirtualPrinter
from .pty import PtyVirtualPrinter, serve_pty

__all__ = ["VIRTUAL_PORT", "PtyVirtualPrinter", "VirtualOptions", "VirtualPrinter", "checksum", "options_from_settings",
           "serve_pty"]
