"""What an OctoPrint plugin is given, and the calls OctoPrint makes that octohost's seam does not.

octohost's :class:`~octohost.plugin.PluginManager` loads OctoPrint plugins like its own
(``__plugin_load__``, ``__plugin_implementation__``, ``__plugin_hooks__``, ``initialize``,
``on_startup``/``on_after_startup``/``on_shutdown``, ``on_event``). This module adds, for plugins of
origin ``octoprint``:

- :func:`inject`: ``_settings`` as OctoPrint's per-plugin settings (defaults from
  ``get_settings_defaults``), ``_plugin_manager`` with OctoPrint's methods, ``_basefolder``,
  ``_data_folder``;
- :func:`start`: once the system is built, ``_file_manager`` with OctoPrint's signatures,
  ``Events.PLUGIN_<ID>_<NAME>`` constants and ``ProgressPlugin.on_print_progress`` at each whole
  percent of a print;
- :func:`settings_tree` / :func:`save_settings`: ``plugins.<id>`` in ``/api/settings``;
- :func:`set_push`: where ``send_plugin_message`` delivers;
- :func:`prepare_flask_app`: plugin blueprints and assets on the API's Flask app.

The running manager is remembered module-wide because OctoPrint's API has singletons
(``octoprint.settings.settings()``, ``octoprint.events.eventManager()``).
"""

import copy
import logging
import os
import re
import threading

from octohost.printer.interface import PrinterCallback

from .discovery import ORIGIN

log = logging.getLogger(__name__)

#: attributes :func:`inject` owns; the manager's component injection leaves them alone
OWN_ATTRIBUTES = frozenset({"settings", "plugin_manager", "file_manager"})

_state = {"manager": None, "push": None, "permission_keys": None,
          "overlays": {}}  # plugin identifier -> defaults other plugins' __plugin_settings_overlay__ add


def current_manager():
    return _state["manager"]


def current_component(name):
    manager = _state["manager"]
    return manager.component(name) if manager is not None else None


def current_facade():
    manager = _state["manager"]
    return OctoPrintPluginManager(manager) if manager is not None else None


def permission_keys():
    """Core permission keys and those plugins add (``PLUGIN_<ID>_<KEY>``), as octohost registers them."""
    keys = _state.get("permission_keys")
    if keys is None:
        from octohost.access.permissions import PermissionRegistry

        keys = frozenset(p.key for p in PermissionRegistry(_state["manager"]).all())
        if _state["manager"] is not None:
            _state["permission_keys"] = keys
    return keys


def set_push(push):
    """The push hub (``broadcast_plugin(plugin, data)``) plugin messages go to; None when stopped."""
    _state["push"] = push


def octoprint_plugins(manager):
    return [info for info in manager.enabled_plugins() if info.origin == ORIGIN]


# -- settings --------------------------------------------------------------------------------------


def _path(path):
    if isinstance(path, str):
        return [path]
    return [str(p) for p in path]


class PluginSettings:
    """OctoPrint's ``PluginSettings``: the plugin's slice ``plugins.<id>`` over octohost's store,
    with the plugin's defaults where nothing is stored. Paths are lists (``["a", "b"]``)."""

    def __init__(self, store, identifier, defaults=None):
        self._store = store
        self.plugin_key = identifier
        self._own_defaults = copy.deepcopy(defaults or {})

    @property
    def defaults(self):
        """The plugin's defaults under what ``__plugin_settings_overlay__`` of plugins put over them."""
        overlay = _state["overlays"].get(self.plugin_key)
        if not overlay:
            return self._own_defaults
        from octoprint.util import dict_merge

        return dict_merge(self._own_defaults, overlay)

    def _stored(self, path):
        return self._store.get(".".join(["plugins", self.plugin_key] + path)) if path else \
            self._store.get(f"plugins.{self.plugin_key}")

    def _default(self, path):
        node = self.defaults
        for part in path:
            if not isinstance(node, dict) or part not in node:
                return None
            node = node[part]
        return copy.deepcopy(node)

    def get(self, path, merged=False, asdict=False, **kwargs):
        path = _path(path)
        value = self._stored(path)
        default = self._default(path)
        if value is None:
            return default
        if isinstance(value, dict) and isinstance(default, dict):
            from octoprint.util import dict_merge

            return dict_merge(default, value)
        return value

    def get_int(self, path, **kwargs):
        return _convert(self.get(path), int)

    def get_float(self, path, **kwargs):
        return _convert(self.get(path), float)

    def get_boolean(self, path, **kwargs):
        value = self.get(path)
        if isinstance(value, str):
            return value.lower() in ("true", "yes", "y", "1", "on")
        return bool(value) if value is not None else None

    def set(self, path, value, force=False, **kwargs):
        path = _path(path)
        if not path:
            for key, item in (value or {}).items():
                self.set([key], item)
            return
        self._store.set(".".join(["plugins", self.plugin_key] + path), value)

    def set_int(self, path, value, **kwargs):
        self.set(path, _convert(value, int))

    def set_float(self, path, value, **kwargs):
        self.set(path, _convert(value, float))

    def set_boolean(self, path, value, **kwargs):
        self.set(path, bool(value))

    def has(self, path, **kwargs):
        return self.get(path) is not None

    def remove(self, path, **kwargs):
        self._store.remove(".".join(["plugins", self.plugin_key] + _path(path)))

    def get_all_data(self, merged=True, **kwargs):
        from octoprint.util import dict_merge

        stored = self._stored([]) or {}
        return dict_merge(self.defaults, stored) if merged else copy.deepcopy(stored)

    def clean_all_data(self, *args, **kwargs):
        self._store.remove(f"plugins.{self.plugin_key}")

    def save(self, *args, **kwargs):
        """octohost's store writes each change at once (atomically)."""
        return True

    def get_plugin_data_folder(self):
        path = os.path.join(self._store.folder("data"), self.plugin_key)
        os.makedirs(path, exist_ok=True)
        return path

    def get_plugin_logfile_path(self, postfix=None):
        name = f"plugin_{self.plugin_key}{'_' + postfix if postfix else ''}.log"
        return os.path.join(self._store.folder("logs"), name)

    # the global settings, as OctoPrint's PluginSettings offers them
    def _global(self):
        from octoprint.settings import GlobalSettings

        return GlobalSettings(self._store)

    def global_get(self, path, **kwargs):
        return self._global().get(path, **kwargs)

    def global_get_int(self, path, **kwargs):
        return self._global().getInt(path, **kwargs)

    def global_get_float(self, path, **kwargs):
        return self._global().getFloat(path, **kwargs)

    def global_get_boolean(self, path, **kwargs):
        return self._global().getBoolean(path, **kwargs)

    def global_set(self, path, value, **kwargs):
        self._global().set(path, value)

    def global_get_basefolder(self, folder_type, **kwargs):
        return self._store.folder(folder_type)

    @property
    def settings(self):
        return self._global()


def _convert(value, kind):
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# -- the plugin manager as OctoPrint plugins see it ---------------------------------------------------


class OctoPrintPluginManager:
    """OctoPrint's ``PluginManager`` methods over octohost's manager."""

    def __init__(self, manager):
        self._manager = manager

    @property
    def plugins(self):
        return {info.identifier: info for info in self._manager.plugins.values()}

    @property
    def enabled_plugins(self):
        return {info.identifier: info for info in self._manager.enabled_plugins()}

    def get_plugin(self, identifier, require_enabled=True):
        info = self.get_plugin_info(identifier, require_enabled)
        return info.module if info is not None else None

    def get_plugin_info(self, identifier, require_enabled=True):
        info = self._manager.plugins.get(identifier)
        if info is None or (require_enabled and not (info.loaded and info.enabled)):
            return None
        return info

    def get_implementations(self, *types, **kwargs):
        return [info.implementation for info in self._manager.enabled_plugins()
                if info.implementation is not None and all(isinstance(info.implementation, t) for t in types)]

    def get_hooks(self, hook):
        """``{plugin identifier: handler}`` of ``hook`` (how plugins call each other's hooks)."""
        return dict(self._manager.handlers(hook))

    def get_plugin_data_folder(self, identifier):
        path = os.path.join(self._manager.settings.folder("data"), identifier)
        os.makedirs(path, exist_ok=True)
        return path

    def send_plugin_message(self, plugin, data, permissions=None):
        """Push ``{"plugin": {"plugin", "data"}}`` to the connected, logged-in clients."""
        push = _state["push"]
        if push is None:
            return
        permission = None
        for item in permissions or []:
            permission = getattr(item, "key", item)
        push.broadcast_plugin(plugin, data, permission=permission)

    def register_message_receiver(self, client):
        log.warning("register_message_receiver is not supported: octohost's push socket delivers "
                    "plugin messages")


# -- load time ---------------------------------------------------------------------------------------


#: documented OctoPrint hooks octohost accepts but never calls (their feature is not there): named in
#: the log when a plugin registers one, so a plugin that silently does nothing can be explained
NOT_CALLED_HOOKS = {
    "theming.login": "octohost's UI has its own login page",
    "theming.dialog": "octohost's UI has its own dialogs",
    "plugin.pluginmanager.reconnect_hooks": "octohost's plugin manager installs nothing",
}


def warn_uncalled_hooks(info):
    for name in info.hooks:
        reason = NOT_CALLED_HOOKS.get(name)
        if reason:
            log.warning("plugin %s: hook octoprint.%s is accepted but never called (%s)", info.identifier, name,
                        reason)


def apply_settings_overlay(info):
    """``__plugin_settings_overlay__``: a settings tree a plugin lays over the defaults. Its
    ``plugins.<id>`` parts become defaults of those plugins (whenever they load); octohost's own
    settings take no overlay (their defaults are its schema's), which is logged."""
    overlay = getattr(info.module, "__plugin_settings_overlay__", None)
    if isinstance(overlay, (tuple, list)) and overlay:
        overlay = overlay[0]  # (overlay, order): octohost applies them in load order
    if overlay is None:
        return
    if not isinstance(overlay, dict):
        log.warning("plugin %s: __plugin_settings_overlay__ is not a dict; ignored", info.identifier)
        return
    from octoprint.util import dict_merge

    for key, value in overlay.items():
        if key == "plugins" and isinstance(value, dict):
            for identifier, tree in value.items():
                if isinstance(tree, dict) and not identifier.startswith("_"):
                    _state["overlays"][identifier] = dict_merge(_state["overlays"].get(identifier) or {}, tree)
                else:
                    log.warning("plugin %s: settings overlay plugins.%s is not supported; ignored",
                                info.identifier, identifier)
        else:
            log.warning("plugin %s: settings overlay for %r is not supported (only plugins.<id>); ignored",
                        info.identifier, key)


class ConnectivityChecker:
    """OctoPrint's connectivity checker as OctoPrint has it when the check is disabled: octohost makes
    no outside calls to find out, and a disabled checker reports online (so plugins try)."""

    enabled = False
    online = True
    host = port = None
    interval = 0

    def check_immediately(self, *args, **kwargs):
        return self.online

    def log_full_report(self, *args, **kwargs):
        pass

    def as_dict(self):
        return {"online": self.online, "enabled": self.enabled, "host": self.host, "port": self.port,
                "interval": self.interval}


def stand_in_components():
    """Components OctoPrint builds that octohost has no counterpart for: ``slicing_manager`` and
    ``plugin_lifecycle_manager`` are None (no slicing, no installing from the UI), the
    connectivity checker a disabled one. Injected into plugins as ``_<name>`` and handed to
    ``printer.factory``, as in OctoPrint."""
    return {"slicing_manager": None, "plugin_lifecycle_manager": None,
            "connectivity_checker": ConnectivityChecker()}


def inject(manager, info):
    """Give an OctoPrint plugin's implementation what OctoPrint gives it at load."""
    if _state["manager"] is not manager:
        _state.update(manager=manager, permission_keys=None, overlays={})
    warn_uncalled_hooks(info)
    apply_settings_overlay(info)
    impl = info.implementation
    if impl is None:
        return
    module_file = getattr(info.module, "__file__", None)
    values = {"_plugin_manager": OctoPrintPluginManager(manager), "_plugin_info": info}
    if module_file:
        values["_basefolder"] = os.path.dirname(os.path.abspath(module_file))
    for key, value in values.items():
        setattr(impl, key, value)
    if manager.settings is None:
        return
    defaults = {}
    if callable(getattr(impl, "get_settings_defaults", None)):
        try:
            defaults = impl.get_settings_defaults() or {}
        except Exception:
            log.exception("plugin %s raised in get_settings_defaults(); it gets no defaults", info.identifier)
    impl._settings = PluginSettings(manager.settings, info.identifier, defaults)
    impl._data_folder = os.path.join(manager.settings.folder("data"), info.identifier)
    os.makedirs(impl._data_folder, exist_ok=True)


def after_initialize(manager, info):
    """What OctoPrint does once a settings plugin is initialized: migrate its stored settings when
    ``get_settings_version()`` is newer than the stored ``_config_version`` (``on_settings_migrate
    (target, current)``, then the new version is stored), ``on_settings_cleanup()``,
    ``on_settings_initialized()``."""
    from octoprint.plugin import SettingsPlugin

    impl = info.implementation
    if not isinstance(impl, SettingsPlugin) or not isinstance(impl._settings, PluginSettings):
        return
    try:
        target = impl.get_settings_version()
        if target is not None:
            current = impl._settings.get_int([SettingsPlugin.config_version_key])
            if current is None or current < target:
                log.info("plugin %s: migrating its settings from version %s to %s", info.identifier, current, target)
                impl.on_settings_migrate(target, current)
                impl._settings.set_int([SettingsPlugin.config_version_key], target, force=True)
        impl.on_settings_cleanup()
        impl.on_settings_initialized()
    except Exception:
        log.exception("plugin %s: migrating or initializing its settings failed; ignored", info.identifier)


# -- run time ----------------------------------------------------------------------------------------


class _ProgressReporter(PrinterCallback):
    """``on_print_progress(storage, path, percent)`` once for each whole percent of a print, 0 to 100,
    as OctoPrint calls it. Progress is sampled twice a second (nothing is added to the serial loops),
    so the percents a sample skipped are reported with the next one, in order."""

    def __init__(self, manager):
        self._manager = manager
        self._last = None  # last percent reported for the running job, None between jobs
        self._job = None  # (storage, path)
        self._lock = threading.Lock()

    def on_printer_send_current_data(self, data):
        flags = (data.get("state") or {}).get("flags") or {}
        completion = (data.get("progress") or {}).get("completion")
        if not (flags.get("printing") or flags.get("finishing")) or completion is None:
            return
        job_file = (data.get("job") or {}).get("file") or {}
        self._advance((job_file.get("origin"), job_file.get("path")), min(100, int(completion)))

    def on_event(self, event, payload):
        from octohost.events import Events

        payload = payload or {}
        job = (payload.get("origin"), payload.get("path"))
        if event == Events.PRINT_STARTED:
            with self._lock:
                if self._job != job:  # (a sample of this job may have come before the event)
                    self._job, self._last = job, None
            self._advance(job, 0)
        elif event == Events.PRINT_DONE:
            self._advance(job, 100)
        if event in (Events.PRINT_DONE, Events.PRINT_FAILED, Events.PRINT_CANCELLED):
            with self._lock:
                self._job, self._last = None, None

    def _advance(self, job, percent):
        with self._lock:
            if self._job is not None and job != self._job:
                return
            first = 0 if self._last is None else self._last + 1
            if percent < first:
                return
            self._job, self._last = job, percent
        for value in range(first, percent + 1):
            self.report(job[0], job[1], value)

    def report(self, storage, path, percent):
        for info in octoprint_plugins(self._manager):
            if callable(getattr(info.implementation, "on_print_progress", None)):
                self._manager.call_implementation(info, "on_print_progress", storage, path, percent)


def start(manager, components):
    """Wire the run-time calls before ``components`` are injected (and ``initialize()`` is called);
    nothing but the event constants when no OctoPrint plugin is loaded."""
    from octoprint.events import register_custom_event_constants

    from .files import OctoPrintFileManager

    _state["manager"] = manager
    _state["permission_keys"] = None
    permission_keys()  # now, outside any request: the hook's gettext needs no Flask-Babel there
    event_bus = components["event_bus"]
    register_custom_event_constants(getattr(event_bus, "custom_events", []))
    plugins = octoprint_plugins(manager)
    if not plugins:
        return None
    file_manager = OctoPrintFileManager(components["file_manager"])
    for info in plugins:
        if info.implementation is not None:
            info.implementation._file_manager = file_manager
    reporter = _ProgressReporter(manager)
    components["printer"].register_callback(reporter)
    for event in ("PrintStarted", "PrintDone", "PrintFailed", "PrintCancelled"):
        event_bus.subscribe(event, reporter.on_event)
    return reporter


def prepare_flask_app(app, manager):
    """What OctoPrint plugins expect of OctoPrint's Flask app: ``url_for("index")`` (the web UI's
    root), a ``flask_babel.gettext`` that works inside requests (it needs a Babel on the app;
    without translations it passes text through), each ``BlueprintPlugin``'s routes under
    ``/plugin/<id>/`` and each ``AssetPlugin``'s files under ``/plugin/<id>/static/``."""
    app.add_url_rule("/", "index", build_only=True)
    plugins = list(octoprint_plugins(manager))
    if not plugins:
        return  # flask_babel (with babel and pytz) costs the daemon ~3 MiB: only for plugins that need it
    try:
        from flask_babel import Babel
    except ImportError:
        pass
    else:
        Babel(app)
    _setup_flask_login(app)
    from . import softwareupdate

    softwareupdate.register(app, manager)
    for info in plugins:
        for blueprint in _plugin_blueprints(info):
            app.register_blueprint(blueprint)


def _plugin_blueprints(info):
    import flask
    from octoprint.plugin import AssetPlugin, BlueprintPlugin

    impl, identifier = info.implementation, info.identifier
    prefix = f"/plugin/{identifier}"
    name = identifier.replace(".", "_")  # Flask's blueprint names take no dots
    blueprints = []
    if isinstance(impl, AssetPlugin):
        folder = impl.get_asset_folder()
        if folder and os.path.isdir(folder):
            blueprints.append(flask.Blueprint(f"plugin_{name}_static", info.module.__name__,
                                              static_folder=folder, static_url_path="/static",
                                              url_prefix=prefix))
    if isinstance(impl, BlueprintPlugin):
        blueprint = flask.Blueprint(f"plugin_{name}", info.module.__name__, url_prefix=prefix)
        count = 0
        for attribute in dir(type(impl)):
            view = getattr(impl, attribute, None)
            for rule, options in getattr(view, "_blueprint_rules", ()):
                options = dict(options)
                blueprint.add_url_rule(rule, options.pop("endpoint", attribute), view, **options)
                count += 1

        @blueprint.before_request
        def protect():
            from flask import g

            identity = getattr(g, "identity", None)
            if impl.is_blueprint_protected() and (identity is None or identity.anonymous):
                flask.abort(403)

        if count:
            blueprints.append(blueprint)
    return blueprints


class FlaskLoginUser:
    """An octohost user as Flask-Login's ``current_user`` and OctoPrint's MFA plugins see it."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user):
        self._user = user

    @property
    def is_active(self):
        return bool(getattr(self._user, "active", True))

    def get_id(self):
        return self._user.name

    def get_name(self):
        return self._user.name

    def __repr__(self):
        return f"FlaskLoginUser({self._user.name!r})"


def _setup_flask_login(app):
    """``flask_login.current_user`` inside plugin views: the request's octohost identity."""
    try:
        from flask_login import LoginManager
    except ImportError:
        return
    login_manager = LoginManager(app)

    @login_manager.request_loader
    def load(request):
        from flask import g

        identity = getattr(g, "identity", None)
        user = getattr(identity, "user", None)
        return FlaskLoginUser(user) if user is not None else None


def check_mfa(manager, request, user, data):
    """OctoPrint's second factor at a password login: None to go on, else the body of a 403 —
    ``{"error", "mfa": [plugins]}`` when a plugin enabled for the user wants its credentials (the
    client sends them along with the password, as ``mfa-<plugin>-token`` for mfa_totp), or
    ``{"error", "mfa_error"}`` when they are wrong. One plugin's accepted credentials suffice."""
    from octoprint.plugin import MfaPlugin
    from octoprint.plugin.types import WrongMfaCredentials

    plugins = [info for info in octoprint_plugins(manager) if isinstance(info.implementation, MfaPlugin)]
    if not plugins:
        return None
    login_user = FlaskLoginUser(user)
    wanted = []
    for info in plugins:
        impl = info.implementation
        try:
            if not impl.is_mfa_enabled(login_user):
                continue
            if impl.has_mfa_credentials(request, login_user, data):
                return None
            wanted.append(info.identifier)
        except WrongMfaCredentials as exc:
            return {"error": "Wrong two-factor authentication credentials", "mfa_error": str(exc)}
        except Exception:  # a broken second factor must not let the login through
            log.exception("plugin %s failed checking the second factor of %s", info.identifier, user.name)
            return {"error": "Two-factor authentication failed", "mfa": [info.identifier]}
    if wanted:
        return {"error": "Two-factor authentication required", "mfa": wanted}
    return None


def prepare_jinja(environment):
    """What OctoPrint plugins' templates use of OctoPrint's Jinja environment: ``_()``/``gettext``
    and ``{% trans %}`` (passing text through: no translations are loaded) and the quote-escaping
    filters ``esq``/``edq``."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_null_translations(newstyle=True)
    single, double = re.compile(r"(?<!\\)'"), re.compile(r'(?<!\\)"')
    environment.filters["escape_single_quote"] = environment.filters["esq"] = lambda t: single.sub("\\'", t)
    environment.filters["escape_double_quote"] = environment.filters["edq"] = lambda t: double.sub('\\"', t)


# -- /api/settings -----------------------------------------------------------------------------------


def settings_tree(manager, plugins_tree):
    """``plugins`` of ``/api/settings``: each OctoPrint plugin's data, defaults included."""
    tree = dict(plugins_tree or {})
    for info in octoprint_plugins(manager):
        impl = info.implementation
        if impl is None or not isinstance(getattr(impl, "_settings", None), PluginSettings):
            continue
        if callable(getattr(impl, "on_settings_load", None)):
            data = manager.call_implementation(info, "on_settings_load")
        else:
            data = impl._settings.get_all_data()
        if isinstance(data, dict):
            tree[info.identifier] = data
    return tree


def owned_settings(manager):
    """Identifiers whose ``plugins.<id>`` a plugin saves itself (``on_settings_save``)."""
    return {info.identifier for info in octoprint_plugins(manager)
            if callable(getattr(info.implementation, "on_settings_save", None))}


def save_settings(manager, identifier, data):
    """Hand ``plugins.<id>`` of a settings POST to the plugin's ``on_settings_save``."""
    info = manager.plugins[identifier]
    manager.call_implementation(info, "on_settings_save", data)
