"""Logging: ``logs/octohost.log`` with rotation, and ``logs/serial.log`` for raw traffic.

The serial log is off by default and can be switched while running (``serial.log``). The comm
loops check the plain attribute :attr:`SerialLog.enabled` before building any log text, so a
switched-off serial log costs one attribute read per line.
"""

import logging
import logging.handlers
import os
import sys

FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


class SerialLog:
    def __init__(self):
        self.enabled = False
        self._logger = logging.getLogger("octohost.serial")
        self._logger.propagate = False
        self._logger.setLevel(logging.DEBUG)
        self._handler = None

    def attach(self, folder):
        if self._handler is not None:
            self._logger.removeHandler(self._handler)
            self._handler.close()
        self._handler = logging.handlers.RotatingFileHandler(
            os.path.join(folder, "serial.log"), maxBytes=20 * 1024 * 1024, backupCount=3, delay=True, encoding="utf-8")
        self._handler.setFormatter(logging.Formatter("%(asctime)s - %(message)s"))
        self._logger.addHandler(self._handler)

    def set_enabled(self, enabled):
        self.enabled = bool(enabled)
        self._logger.info("serial log %s", "enabled" if enabled else "disabled")

    def write(self, direction, line):
        """Log one line of traffic; callers check :attr:`enabled` first."""
        self._logger.debug("%s %s", direction, line)


serial_log = SerialLog()


def setup_logging(settings, debug=False, console=True):
    """Configure the root logger for the daemon and hook the serial log to ``serial.log``."""
    folder = settings.folder("logs")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_octohost", False):
            root.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter(FORMAT)
    file_handler = logging.handlers.RotatingFileHandler(
        os.path.join(folder, "octohost.log"), maxBytes=10 * 1024 * 1024, backupCount=5, encoding="utf-8")
    file_handler.setFormatter(formatter)
    file_handler._octohost = True
    root.addHandler(file_handler)
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        stream._octohost = True
        root.addHandler(stream)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    for noisy in ("tornado.access", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING if not debug else logging.INFO)

    serial_log.attach(folder)
    serial_log.set_enabled(settings.get("serial.log"))
    settings.subscribe("serial.log", lambda key, value: serial_log.set_enabled(settings.get("serial.log")))
    return folder
