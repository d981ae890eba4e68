"""GCODE scripts: Jinja2 templates from ``BASEDIR/scripts/gcode/<name>`` with built-in defaults.

Templates run in Jinja's sandbox because anyone with settings access can edit them; the sandbox
refuses attribute tricks such as ``''.__class__.__mro__``. Plugins add a prefix, a postfix and
variables through the ``comm.protocol.scripts`` hook: :meth:`GcodeScripts.render` applies it
(previews, direct use); MachineCom applies it itself around the ``script_renderer`` it gets, so
calling a :class:`GcodeScripts` instance as ``renderer(name, context, comm)`` renders the
template alone.
"""

import logging
import os
import re

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from octohost.plugin.handlers import run_handlers
from octohost.util.fs import atomic_write

from .interface import UnknownScriptException

log = logging.getLogger(__name__)

SCRIPT_TYPE = "gcode"
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")

_TURN_OFF_HEATERS_AND_FANS = """\
{% if printer_profile.extruder.count > 1 and not printer_profile.extruder.sharedNozzle %}
{% for tool in range(printer_profile.extruder.count) %}
M104 T{{ tool }} S0
{% endfor %}
{% else %}
M104 S0
{% endif %}
{% if printer_profile.heatedBed %}
M140 S0
{% endif %}
{% if printer_profile.heatedChamber %}
M141 S0
{% endif %}
M106 S0
M84
"""

#: the standard script names and what they do when the user has not written their own
DEFAULT_SCRIPTS = {
    "afterPrinterConnected": "",
    "beforePrinterDisconnected": "",
    "beforePrintStarted": "",
    "afterPrintDone": "",
    "afterPrintCancelled": "; heaters and fans off, motors released\n" + _TURN_OFF_HEATERS_AND_FANS,
    "afterPrintPaused": "",
    "beforePrintResumed": "",
    "beforeToolChange": "",
    "afterToolChange": "",
}


class ScriptError(ValueError):
    """A script name or template is invalid, or rendering failed."""


def _as_lines(value):
    if value is None:
        return []
    if isinstance(value, str):
        return value.splitlines()
    return [str(line) for line in value]


def _clean(lines):
    result = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith(";"):
            result.append(line)
    return result


class GcodeScripts:
    """Load, save and render GCODE scripts.

    ``context_provider()`` supplies the printer's part of the context (printer_profile,
    last_position, last_temperature, last_fanspeed); the caller's context is merged over it.
    """

    def __init__(self, settings, plugin_manager=None, context_provider=None):
        self._folder = os.path.join(settings.folder("scripts"), SCRIPT_TYPE)
        os.makedirs(self._folder, exist_ok=True)
        self._plugin_manager = plugin_manager
        self._context_provider = context_provider
        loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(self._folder), jinja2.DictLoader(DEFAULT_SCRIPTS)])
        self._env = SandboxedEnvironment(loader=loader, trim_blocks=True, lstrip_blocks=True, autoescape=False)

    @property
    def folder(self):
        return self._folder

    # -- storage -------------------------------------------------------------------------------

    def _check_name(self, name):
        if not isinstance(name, str) or not _NAME_PATTERN.match(name):
            raise ScriptError(f"invalid script name {name!r}")
        return name

    def _custom_path(self, name):
        return os.path.join(self._folder, self._check_name(name))

    def exists(self, name):
        try:
            return name in DEFAULT_SCRIPTS or os.path.isfile(self._custom_path(name))
        except ScriptError:
            return False

    def names(self):
        custom = [n for n in os.listdir(self._folder)
                  if _NAME_PATTERN.match(n) and os.path.isfile(os.path.join(self._folder, n))]
        return sorted(set(DEFAULT_SCRIPTS) | set(custom))

    def get_source(self, name):
        """The template text: the user's file, else the built-in default; UnknownScriptException if neither."""
        try:
            path = self._custom_path(name)
        except ScriptError:
            raise UnknownScriptException(name) from None
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
        if name in DEFAULT_SCRIPTS:
            return DEFAULT_SCRIPTS[name]
        raise UnknownScriptException(name)

    def list_sources(self):
        """{name: template text} of every known script."""
        return {name: self.get_source(name) for name in self.names()}

    def check_source(self, name, text):
        """Raise ScriptError if ``name`` or the template syntax of ``text`` is invalid; stores nothing."""
        self._check_name(name)
        if not isinstance(text, str):
            raise ScriptError(f"script {name!r}: expected text, got {type(text).__name__}")
        try:
            self._env.parse(text)
        except jinja2.TemplateSyntaxError as exc:
            raise ScriptError(f"script {name!r}: template error at line {exc.lineno}: {exc.message}") from None

    def save_source(self, name, text):
        """Store a script atomically after checking its template syntax."""
        self.check_source(name, text)
        atomic_write(self._custom_path(name), text)

    def reset(self, name):
        """Remove the user's version so the default applies again; True if there was one."""
        path = self._custom_path(name)
        if os.path.isfile(path):
            os.unlink(path)
            return True
        return False

    # -- rendering -----------------------------------------------------------------------------

    def _hook_parts(self, name, comm):
        prefix, postfix, variables = [], [], {}
        if self._plugin_manager is None:
            return prefix, postfix, variables
        handlers = self._plugin_manager.handlers("comm.protocol.scripts")
        for _plugin_id, result in run_handlers("comm.protocol.scripts", handlers,
                                               lambda handler: handler(comm, SCRIPT_TYPE, name), subject=name):
            if not isinstance(result, (tuple, list)) or len(result) < 2:
                continue
            prefix += _as_lines(result[0])
            postfix += _as_lines(result[1])
            if len(result) > 2 and isinstance(result[2], dict):
                variables.update(result[2])
        return prefix, postfix, variables

    def render(self, name, context=None, comm=None, with_hooks=True):
        """The script's lines ready to send; raises UnknownScriptException or ScriptError."""
        if not self.exists(name):
            raise UnknownScriptException(name)
        prefix, postfix, variables = self._hook_parts(name, comm) if with_hooks else ([], [], {})
        full_context = dict(self._context_provider() if self._context_provider else {})
        full_context.update(variables)
        full_context.update(context or {})
        full_context["script"] = {"name": name, "type": SCRIPT_TYPE}
        try:
            template = self._env.get_template(name)
            text = template.render(**full_context)
        except jinja2.TemplateError as exc:
            raise ScriptError(f"script {name!r} failed to render: {exc}") from exc
        return _clean(prefix) + _clean(text.splitlines()) + _clean(postfix)

    def __call__(self, name, context=None, comm=None):
        """The MachineCom ``script_renderer``: None for unknown scripts, [] when rendering fails."""
        try:
            return self.render(name, context, comm, with_hooks=False)
        except UnknownScriptException:
            return None
        except ScriptError:
            log.exception("not sending GCODE script %s", name)
            return []
