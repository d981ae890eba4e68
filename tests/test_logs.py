import logging

from octohost.logs import serial_log, setup_logging
from octohost.settings import Settings


def flush_handlers():
    for handler in logging.getLogger().handlers + logging.getLogger("octohost.serial").handlers:
        handler.flush()


def test_daemon_log_and_runtime_switchable_serial_log(tmp_path):
    settings = Settings(str(tmp_path))
    folder = setup_logging(settings, console=False)
    try:
        logging.getLogger("octohost.test").warning("hello from the test")
        assert serial_log.enabled is False
        settings.set("serial.log", True)
        assert serial_log.enabled is True
        serial_log.write("Send:", "N1 G28*18")
        settings.set("serial.log", False)
        assert serial_log.enabled is False
        flush_handlers()
        main_log = (tmp_path / "logs" / "octohost.log").read_text()
        assert " - octohost.test - WARNING - hello from the test" in main_log
        serial_text = (tmp_path / "logs" / "serial.log").read_text()
        assert "Send: N1 G28*18" in serial_text
        assert "N1 G28*18" not in main_log
        assert folder == str(tmp_path / "logs")
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "_octohost", False):
                root.removeHandler(handler)
                handler.close()
