"""OctoPrint's plugin mixins (``octoprint.plugin.types``): the methods and defaults plugins override.

The bodies are OctoPrint's documented defaults; octohost calls them at OctoPrint's moments
(see :mod:`octohost.compat.layer`). Attributes such as ``_settings`` and ``_printer`` are injected
on load and when the running system is built; they are None until then, as plugins expect.
"""

import os


class Plugin:
    """The base of every implementation."""

    _identifier = None
    _plugin_name = None
    _plugin_version = None
    _plugin_info = None
    _basefolder = None
    _logger = None

    def initialize(self):
        """Called once everything is injected."""

    def on_plugin_enabled(self):
        pass

    def on_plugin_disabled(self):
        pass


class OctoPrintPlugin(Plugin):
    """A plugin that gets the running system injected as ``_printer``, ``_settings``, ..."""

    _plugin_manager = None
    _printer_profile_manager = None
    _event_bus = None
    _analysis_queue = None
    _slicing_manager = None
    _file_manager = None
    _printer = None
    _app_session_manager = None
    _plugin_lifecycle_manager = None
    _user_manager = None
    _connectivity_checker = None
    _data_folder = None
    _settings = None

    def get_plugin_data_folder(self):
        """Deprecated in OctoPrint in favour of ``_data_folder``; creates it."""
        if self._data_folder and not os.path.isdir(self._data_folder):
            os.makedirs(self._data_folder, exist_ok=True)
        return self._data_folder


class ReloadNeedingPlugin(Plugin):
    pass


class RestartNeedingPlugin(Plugin):
    pass


class SortablePlugin(Plugin):
    def get_sorting_key(self, context=None):
        return None


class StartupPlugin(OctoPrintPlugin, SortablePlugin):
    def on_startup(self, host, port):
        pass

    def on_after_startup(self):
        pass


class ShutdownPlugin(OctoPrintPlugin, SortablePlugin):
    def on_shutdown(self):
        pass


class EnvironmentDetectionPlugin(OctoPrintPlugin, RestartNeedingPlugin):
    def get_additional_environment(self):
        return {}

    def on_environment_detected(self, environment, *args, **kwargs):
        pass


class EventHandlerPlugin(OctoPrintPlugin):
    def on_event(self, event, payload):
        pass


class ProgressPlugin(OctoPrintPlugin):
    def on_print_progress(self, storage, path, progress):
        pass

    def on_slicing_progress(self, slicer, source_location, source_path, destination_location,
                            destination_path, progress):
        pass


class TemplatePlugin(OctoPrintPlugin, ReloadNeedingPlugin):
    def get_template_configs(self):
        return []

    def get_template_vars(self):
        return {}

    def get_template_folder(self):
        return os.path.join(self._basefolder, "templates") if self._basefolder else None

    @property
    def template_folder_key(self):
        return f"plugin_{self._identifier}"


class AssetPlugin(OctoPrintPlugin, RestartNeedingPlugin):
    def get_asset_folder(self):
        return os.path.join(self._basefolder, "static") if self._basefolder else None

    def get_assets(self):
        return {}


class UiPlugin(OctoPrintPlugin, SortablePlugin):
    def will_handle_ui(self, request):
        return False


class WizardPlugin(OctoPrintPlugin, ReloadNeedingPlugin):
    def is_wizard_required(self):
        return False

    def get_wizard_version(self):
        return None

    def get_wizard_details(self):
        return {}

    def on_wizard_finish(self, handled):
        pass

    @classmethod
    def is_wizard_ignored(cls, seen_wizards, implementation):
        """OctoPrint's rule: ignored once seen, unless its version is newer than the one seen."""
        if not isinstance(implementation, cls):
            return True
        name = implementation._identifier
        if name not in (seen_wizards or {}):
            return False
        seen, current = seen_wizards[name], implementation.get_wizard_version()
        if current is None:
            return True
        if seen is None:
            return False
        try:
            return current <= seen
        except TypeError:
            return False


class SimpleApiPlugin(OctoPrintPlugin):
    """``GET /api/plugin/<id>`` → :meth:`on_api_get`; ``POST`` ``{"command": ...}`` → :meth:`on_api_command`."""

    def get_api_commands(self):
        return None

    def on_api_command(self, command, data):
        return None

    def on_api_get(self, request):
        return None

    def is_api_adminonly(self):
        return False

    def is_api_protected(self):
        return True


class BlueprintPlugin(OctoPrintPlugin, RestartNeedingPlugin):
    """Routes under ``/plugin/<id>/`` declared with ``@BlueprintPlugin.route`` (served by
    :func:`octohost.compat.layer.prepare_flask_app`)."""

    @staticmethod
    def route(rule, **options):
        def decorator(f):
            f._blueprint_rules = getattr(f, "_blueprint_rules", []) + [(rule, options)]
            return f

        return decorator

    @staticmethod
    def errorhandler(code_or_exception):
        def decorator(f):
            f._blueprint_error_handler = getattr(f, "_blueprint_error_handler", []) + [code_or_exception]
            return f

        return decorator

    @staticmethod
    def csrf_exempt():
        def decorator(f):
            f._blueprint_csrf_exempt = True
            return f

        return decorator

    def is_blueprint_protected(self):
        return True

    def is_blueprint_csrf_protected(self):
        return False

    def get_blueprint_api_prefixes(self):
        return []


class SettingsPlugin(OctoPrintPlugin):
    """A plugin with settings under ``plugins.<id>``: defaults here, values in the settings store."""

    config_version_key = "_config_version"

    def get_settings_defaults(self):
        return {}

    def get_settings_restricted_paths(self):
        return {}

    def get_settings_preprocessors(self):
        return {}, {}

    def get_settings_version(self):
        return None

    def on_settings_initialized(self):
        pass

    def on_settings_migrate(self, target, current):
        pass

    def on_settings_cleanup(self):
        pass

    def on_settings_load(self):
        data = self._settings.get_all_data()
        data.pop(self.config_version_key, None)
        return data

    def on_settings_save(self, data):
        """Store ``data`` (a partial tree) and return what changed, as OctoPrint does."""
        from octoprint.util import dict_merge

        current = self._settings.get_all_data() or {}
        new = dict_merge(current, data or {})
        new.pop(self.config_version_key, None)
        diff = {}
        for key, value in new.items():
            if current.get(key) != value:
                self._settings.set([key], value)
                diff[key] = value
        return diff


class SlicerPlugin(OctoPrintPlugin):
    def is_slicer_configured(self):
        return False

    def get_slicer_properties(self):
        return {}


class WebcamProviderPlugin(OctoPrintPlugin):
    def get_webcam_configurations(self):
        return []

    def take_webcam_snapshot(self, webcamName):
        """An iterator over the bytes of a JPEG of camera ``webcamName`` (octohost.webcams reads it)."""
        raise NotImplementedError()


class MfaPlugin(OctoPrintPlugin):
    """Declared so MFA plugins load; octohost's login does not ask them yet."""

    def is_mfa_enabled(self, user):
        return False

    def has_mfa_form(self, user):
        return False


class WrongMfaCredentials(Exception):
    pass


class AppPlugin(OctoPrintPlugin):
    def get_additional_apps(self):
        return []
