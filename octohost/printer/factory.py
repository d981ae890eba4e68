"""Wiring the printer into the application: the ``printer.factory`` hook, else the standard Printer."""

import logging

from .history import PrintHistory
from .recovery import PrintRecovery
from .standard import Printer

log = logging.getLogger(__name__)


def create_printer(components):
    """The printer instance for ``components`` (dict with settings, plugin_manager, event_bus,
    printer_profile_manager, file_manager, ...).

    The first ``printer.factory`` handler that returns something other than None wins; otherwise
    the standard :class:`Printer` is built with a history database and a recovery store. The
    file manager learns which file must not be modified while printing.
    """
    plugin_manager = components["plugin_manager"]
    plugin_id, printer = plugin_manager.call_until("printer.factory", lambda result: result is not None, components)
    if printer is not None:
        log.info("printer instance provided by plugin %s", plugin_id)
    else:
        settings = components["settings"]
        history = PrintHistory.for_settings(settings)
        interrupted = history.mark_interrupted()
        if interrupted:
            log.warning("%d print job(s) were still running when octohost stopped; marked as failed", interrupted)
        printer = Printer(settings, plugin_manager, components.get("event_bus"),
                          components["printer_profile_manager"], file_manager=components.get("file_manager"),
                          history=history, recovery=PrintRecovery.for_settings(settings))
    file_manager = components.get("file_manager")
    if file_manager is not None:
        file_manager.set_can_modify(lambda path: printer.can_modify_file(path, False))
    return printer
