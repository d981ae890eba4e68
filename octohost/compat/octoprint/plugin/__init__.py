"""``octoprint.plugin``: the mixins (re-exported from :mod:`octoprint.plugin.types`) and ``plugin_manager()``."""

from .types import (  # noqa: F401
    AppPlugin,
    AssetPlugin,
    BlueprintPlugin,
    EnvironmentDetectionPlugin,
    EventHandlerPlugin,
    MfaPlugin,
    OctoPrintPlugin,
    Plugin,
    ProgressPlugin,
    ReloadNeedingPlugin,
    RestartNeedingPlugin,
    SettingsPlugin,
    ShutdownPlugin,
    SimpleApiPlugin,
    SlicerPlugin,
    SortablePlugin,
    StartupPlugin,
    TemplatePlugin,
    UiPlugin,
    WebcamProviderPlugin,
    WizardPlugin,
)


def plugin_manager(*args, **kwargs):
    """The running plugin manager, with OctoPrint's methods (``get_hooks``, ``send_plugin_message``, ...)."""
    from octohost.compat import layer

    return layer.current_facade()
