"""Building the running system in dependency order, so the server only wires finished parts.

settings -> plugin manager -> event bus -> user manager (``access.users.factory`` hook) ->
access (permissions, sessions, app keys) -> profile manager -> file manager -> printer
(``printer.factory`` hook, else the built-in one, via ``create_printer``) -> machine
(drivers, status, reconnection: ``octohost.machine.wiring.attach``) -> webcams -> timelapse.
"""

import os
import secrets

from octohost.access.appkeys import AppKeyManager
from octohost.access.permissions import PermissionRegistry
from octohost.access.sessions import SessionStore
from octohost.access.users import UserManager
from octohost.compat import layer as octoprint_layer
from octohost.events import EventBus
from octohost.files.manager import FileManager
from octohost.machine.wiring import attach as attach_machine
from octohost.maintenance.backup import BackupManager
from octohost.plugin import PluginManager
from octohost.printer.factory import create_printer
from octohost.printer.profiles import PrinterProfileManager
from octohost.timelapse import TimelapseService
from octohost.webcams import Webcams

from .context import AppContext


def ensure_secret_key(settings):
    """The session secret: generated once and stored in ``server.secretKey``."""
    key = settings.get("server.secretKey")
    if not key:
        key = secrets.token_urlsafe(32)
        settings.set("server.secretKey", key)
    return key


def _first_result(plugin_manager, hook, *args):
    _, result = plugin_manager.call_until(hook, lambda value: value is not None, *args)
    return result


def build_context(settings, host="127.0.0.1", port=0, debug=False, safe_mode=False, plugin_manager=None):
    if plugin_manager is None:
        plugin_manager = PluginManager(settings, safe_mode=safe_mode)
        plugin_manager.discover()
    event_bus = EventBus(plugin_manager)
    components = {"settings": settings, "plugin_manager": plugin_manager, "event_bus": event_bus}

    user_manager = _first_result(plugin_manager, "access.users.factory", components, settings)
    if user_manager is None:
        user_manager = UserManager(os.path.join(settings.basedir, "users.yaml"))
    components["user_manager"] = user_manager

    sessions = SessionStore(ensure_secret_key(settings), settings.get("accessControl.sessionTimeout") * 60,
                            path=os.path.join(settings.folder("data"), "sessions.json"))
    appkeys = AppKeyManager(os.path.join(settings.folder("data"), "appkeys.yaml"))
    permissions = PermissionRegistry(plugin_manager)

    profile_manager = PrinterProfileManager(settings, event_bus)
    components["printer_profile_manager"] = profile_manager
    file_manager = FileManager(settings, plugin_manager, event_bus, profile_manager)
    components["file_manager"] = file_manager
    components["analysis_queue"] = file_manager.analysis
    components.update(octoprint_layer.stand_in_components())  # what OctoPrint also hands printer.factory
    components["printer"] = printer = create_printer(components)
    components["machine"] = machine = attach_machine(components)

    octoprint_layer.start(plugin_manager, components)
    plugin_manager.inject_components(**components)
    event_bus.subscribe("*", lambda event, payload: plugin_manager.call_implementations("on_event", event, payload))
    webcams = Webcams(settings, plugin_manager)
    timelapse = TimelapseService(settings, event_bus, plugin_manager, printer, webcams)
    return AppContext(settings=settings, plugin_manager=plugin_manager, event_bus=event_bus,
                      user_manager=user_manager, permissions=permissions, sessions=sessions, appkeys=appkeys,
                      printer=printer, machine=machine, profile_manager=profile_manager, file_manager=file_manager,
                      backups=BackupManager(settings, plugin_manager, lambda: settings.config_version),
                      webcams=webcams, timelapse=timelapse, host=host, port=port, debug=debug, safe_mode=safe_mode)
