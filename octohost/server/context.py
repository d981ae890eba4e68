"""The running system as the web layer sees it: one object handed to every part of the server.

``AppContext`` is also what the web UI's ``ui_routes(app_context)`` receives. Attributes:

- ``settings`` (:class:`octohost.settings.Settings`), ``plugin_manager``, ``event_bus``
- ``user_manager`` (:class:`octohost.access.users.UserManager` or a ``access.users.factory`` one),
  ``permissions`` (:class:`octohost.access.permissions.PermissionRegistry`),
  ``sessions`` (:class:`octohost.access.sessions.SessionStore`),
  ``appkeys`` (:class:`octohost.access.appkeys.AppKeyManager`),
  ``authenticator`` (:class:`octohost.server.auth.Authenticator`: ``identify(headers, cookies,
  query_apikey)`` -> Identity with ``user``, ``permissions``, ``has(key)``; cookie names
  ``session_cookie`` and ``csrf_cookie``)
- ``printer`` (PrinterInterface), ``machine`` (:class:`octohost.machine.monitor.Machine`: status,
  drivers, reconnection), ``profile_manager`` (PrinterProfileManager), ``file_manager`` (FileManager)
- ``webcams`` (:class:`octohost.webcams.Webcams`), ``timelapse`` (:class:`octohost.timelapse.TimelapseService`)
- ``version``: dict(version, display_version, branch, python_version, api)
- ``host``, ``port``, ``debug``, ``safe_mode``
- ``upload_token``, ``upload_temp_folder``: how streamed uploads reach the REST API (internal)
- ``push``: the :class:`octohost.server.push.PushHub` (``broadcast_plugin(plugin, data)``)
- ``mqtt``: the :class:`octohost.bridge.mqtt.MqttService` (``status()``; a bridge only when enabled)
"""

import platform

from octohost import __version__

API_VERSION = "0.1"
OCTOPRINT_COMPAT = "1.11.0"


def version_info():
    return {"version": __version__, "display_version": __version__, "branch": "",
            "python_version": platform.python_version(), "api": API_VERSION, "octoprint": OCTOPRINT_COMPAT}


class AppContext:
    def __init__(self, **components):
        self.settings = None
        self.plugin_manager = None
        self.event_bus = None
        self.user_manager = None
        self.permissions = None
        self.sessions = None
        self.appkeys = None
        self.authenticator = None
        self.printer = None
        self.machine = None
        self.profile_manager = None
        self.file_manager = None
        self.webcams = None
        self.timelapse = None
        self.push = None
        self.mqtt = None
        self.upload_token = None
        self.upload_temp_folder = None
        self.backups = None
        #: ``request_restart(delay)``: stop serving after ``delay`` seconds and start again
        #: (``octohost serve`` re-executes itself); set by the server
        self.request_restart = None
        self.version = version_info()
        self.host = "127.0.0.1"
        self.port = 0
        self.debug = False
        self.safe_mode = False
        for key, value in components.items():
            if not hasattr(self, key):
                raise TypeError(f"unknown component {key!r}")
            setattr(self, key, value)

    @property
    def first_run(self):
        """True while no user exists: only creating the first admin is possible."""
        return not self.user_manager.has_users()
