"""The web UI's routes: the index page rendered from Jinja2 templates, and the static files.

The page is a shell: everything it shows comes from the REST API and the push socket, so the
index can be served to anyone (it holds no printer data, files or settings beyond the UI's name).

Plugins add UI the OctoPrint way. An implementation may offer

- ``get_template_configs()``: a list of dicts with ``type`` (``tab``, ``sidebar``, ``settings``,
  ``navbar``, ``generic`` or a custom type), optional ``name``, ``template``, ``div``;
- ``get_template_folder()`` (default ``<plugin folder>/templates``), whose ``<id>_<type>.jinja2``
  files are picked up even without a config;
- ``get_template_vars()``: values available to its templates as ``plugin_<id>_<key>``;
- ``get_assets()``: ``{"js": [...], "css": [...]}`` relative to ``get_asset_folder()`` (default
  ``<plugin folder>/static``), served under ``/static/plugins/<id>/`` and linked from the page.

The ``ui.web.templatetypes`` hook adds template types (named ``plugin_<provider>_<type>``); the
templates of every type reach the Jinja context as ``templates[type] = {"entries", "order"}``,
where each entry is ``(name, config)`` unless the type's rule has its own ``to_entry``.
"""

import logging
import os
import re

import jinja2
import tornado.web

from octohost.compat import layer as octoprint_layer
from octohost.settings import schema

log = logging.getLogger(__name__)

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEMPLATE_DIR = os.path.join(PACKAGE_DIR, "templates")
STATIC_DIR = os.path.join(PACKAGE_DIR, "static")

CORE_TYPES = ("tab", "sidebar", "settings", "navbar", "generic")

#: settings sections whose forms the UI builds from the schema (labels, help, choices)
FORM_SECTIONS = ("serial", "webcam", "feature", "appearance", "temperature")


def _component(app_context, name, default=None):
    if isinstance(app_context, dict):
        return app_context.get(name, default)
    return getattr(app_context, name, default)


def _core_rule(type_name):
    # a generic template is <id>.jinja2, as in OctoPrint; the other types are <id>_<type>.jinja2
    suffix = "" if type_name == "generic" else f"_{type_name}"
    return {
        "template": lambda plugin_id: f"{plugin_id}{suffix}.jinja2",
        "div": lambda plugin_id: f"{type_name}_plugin_{plugin_id}",
        "to_entry": lambda config: (config["name"], config),
        "mandatory": (),
    }


def _custom_rule(provider, type_name, rule):
    full = f"plugin_{provider}_{type_name}"
    return {
        "template": rule.get("template") or (lambda plugin_id: f"{plugin_id}_{full}.jinja2"),
        "div": rule.get("div") or (lambda plugin_id: f"{provider}_{type_name}_plugin_{plugin_id}"),
        "to_entry": rule.get("to_entry") or (lambda config: (config["name"], config)),
        "mandatory": tuple(rule.get("mandatory") or ()),
    }


class PluginUi:
    """One plugin's contribution: template folder, template configs, variables and assets."""

    def __init__(self, info):
        self.identifier = info.identifier
        self.name = info.name
        self.origin = info.origin
        impl = info.implementation
        base = os.path.dirname(info.path) if info.path and os.path.isfile(info.path) else info.path
        self.template_folder = self._call(impl, "get_template_folder") or _existing(base, "templates")
        self.asset_folder = self._call(impl, "get_asset_folder") or _existing(base, "static")
        self.configs = [c for c in (self._call(impl, "get_template_configs") or []) if isinstance(c, dict)]
        variables = self._call(impl, "get_template_vars")
        self.variables = variables if isinstance(variables, dict) else {}
        assets = self._call(impl, "get_assets")
        self.assets = assets if isinstance(assets, dict) else {}

    def _call(self, impl, method):
        function = getattr(impl, method, None) if impl is not None else None
        if not callable(function):
            return None
        try:
            return function()
        except Exception:
            log.exception("plugin %s raised in %s(); its UI part is skipped", self.identifier, method)
            return None

    def has_template(self, name):
        return bool(self.template_folder) and os.path.isfile(os.path.join(self.template_folder, name))

    def asset_urls(self, kind):
        urls = []
        for path in self.assets.get(kind) or []:
            if self.asset_folder and isinstance(path, str) and not path.startswith(("/", "..")):
                urls.append(f"/static/plugins/{self.identifier}/{path}")
        return urls


def _existing(base, name):
    if not base:
        return None
    path = os.path.join(base, name)
    return path if os.path.isdir(path) else None


def _template_rules(plugin_manager):
    """Core rules plus the custom types plugins declare through ``ui.web.templatetypes``."""
    rules = {name: _core_rule(name) for name in CORE_TYPES}
    sorting = {name: {"key": "name"} for name in CORE_TYPES}
    for provider, result in plugin_manager.call("ui.web.templatetypes", dict(sorting), dict(rules)):
        for entry in result or []:
            try:
                type_name, type_sorting, rule = entry
                full = f"plugin_{provider}_{type_name}"
                rules[full] = _custom_rule(provider, type_name, dict(rule or {}))
                sorting[full] = dict(type_sorting or {})
            except (TypeError, ValueError):
                log.warning("plugin %s returned an invalid template type %r; skipped", provider, entry)
    return rules, sorting


def collect_templates(plugin_manager):
    """The ``templates`` Jinja context and the plugins' UI parts, from the enabled plugins."""
    plugins = [PluginUi(info) for info in plugin_manager.enabled_plugins()] if plugin_manager else []
    rules, sorting = _template_rules(plugin_manager) if plugin_manager else ({n: _core_rule(n) for n in CORE_TYPES}, {})
    collected = {name: [] for name in rules}
    for plugin in plugins:
        configured_types = set()
        for config in plugin.configs:
            type_name = config.get("type")
            if type_name not in rules:
                log.warning("plugin %s declares a template of unknown type %r; skipped", plugin.identifier, type_name)
                continue
            configured_types.add(type_name)
            _add_config(collected, rules[type_name], type_name, plugin, dict(config))
        for type_name, rule in rules.items():
            if type_name not in configured_types and plugin.has_template(rule["template"](plugin.identifier)):
                _add_config(collected, rule, type_name, plugin, {"type": type_name})
    templates = {}
    for type_name, items in collected.items():
        key = (sorting.get(type_name) or {}).get("key", "name")
        if key:
            items.sort(key=lambda item: str(item[1].get(key) or ""))
        templates[type_name] = {"entries": {k: entry for k, _, entry in items}, "order": [k for k, _, _ in items]}
    return templates, plugins


def _add_config(collected, rule, type_name, plugin, config):
    config.setdefault("name", plugin.name)
    config.setdefault("template", rule["template"](plugin.identifier))
    config.setdefault("_div", config.get("div") or rule["div"](plugin.identifier))
    config["_plugin"] = plugin.identifier
    if any(key not in config for key in rule["mandatory"]):
        log.warning("plugin %s: %s template lacks %s; skipped", plugin.identifier, type_name, rule["mandatory"])
        return
    key = f"{plugin.identifier}_{len(collected[type_name])}"
    collected[type_name].append((key, config, rule["to_entry"](config)))


def form_schema():
    """Help, type and choices of the settings the UI edits with generated forms."""
    names = {bool: "boolean", int: "integer", float: "number", str: "string", list: "list", dict: "mapping"}
    out = {}
    for path, setting in schema.walk():
        if path[0] not in FORM_SECTIONS:
            continue
        out[".".join(path)] = {
            "help": setting.help,
            "type": names.get(setting.types[0], "string"),
            "itemType": names.get(setting.item_type) if setting.item_type else None,
            "choices": setting.choices,
            "nullable": setting.nullable,
        }
    return out


class PageRenderer:
    """Renders the index page; the plugin parts are collected once, at server start."""

    def __init__(self, app_context):
        self.settings = _component(app_context, "settings")
        self.app_context = app_context
        self.plugin_manager = _component(app_context, "plugin_manager")
        version = _component(app_context, "version") or {}
        self.version = version.get("version") if isinstance(version, dict) else str(version)
        self.templates, self.plugins = collect_templates(self.plugin_manager)
        loaders = [jinja2.FileSystemLoader(TEMPLATE_DIR)]
        loaders += [jinja2.FileSystemLoader(p.template_folder) for p in self.plugins if p.template_folder]
        self.environment = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True,
                                              trim_blocks=True, lstrip_blocks=True)
        octoprint_layer.prepare_jinja(self.environment)  # what OctoPrint plugins' templates use
        self._drop_broken_templates()
        self.form_schema = form_schema()

    def _drop_broken_templates(self):
        """A plugin template that does not compile is left out, so it cannot break the page."""
        for type_name, entries in self.templates.items():
            for key in list(entries["order"]):
                config = entries["entries"][key][1] if isinstance(entries["entries"][key], tuple) else {}
                template = config.get("template") if isinstance(config, dict) else None
                if not template:
                    continue
                try:
                    self.environment.get_template(template)
                except jinja2.TemplateNotFound:
                    continue
                except jinja2.TemplateError as exc:
                    log.error("plugin %s: template %s of type %s is broken and left out: %s",
                              config.get("_plugin"), template, type_name, exc)
                    entries["order"].remove(key)
                    del entries["entries"][key]

    def static_url(self, path):
        return f"/static/{path}?v={self.version}" if self.version else f"/static/{path}"

    def appearance(self):
        if self.settings is None:
            return {"name": "", "color": "default"}
        return {"name": self.settings.get("appearance.name"), "color": self.settings.get("appearance.color")}

    def render(self):
        appearance = self.appearance()
        context = {
            "title": f"{appearance['name']} · octohost" if appearance["name"] else "octohost",
            "appearance": appearance,
            "templates": self.templates,
            "static_url": self.static_url,
            "plugin_assets": {"js": [u for p in self.plugins for u in p.asset_urls("js")],
                              "css": [u for p in self.plugins for u in p.asset_urls("css")]},
            # jQuery, Knockout and the view-model bridge, only for OctoPrint plugins' scripts
            "octoprint_viewmodels": any(p.origin == octoprint_layer.ORIGIN and p.asset_urls("js")
                                        for p in self.plugins),
            "client_config": {"version": self.version, "settingsSchema": self.form_schema,
                              # the UI asks /api/server about setup only then: afterwards it is 403
                              # without a login, as in OctoPrint
                              "firstRun": bool(getattr(self.app_context, "first_run", False)),
                              "plugins": [p.identifier for p in self.plugins]},
        }
        for plugin in self.plugins:
            for key, value in plugin.variables.items():
                context[f"plugin_{plugin.identifier}_{key}"] = value
        return self.environment.get_template("index.jinja2").render(context)


class IndexHandler(tornado.web.RequestHandler):
    def initialize(self, renderer):
        self.renderer = renderer

    def head(self):
        """What GET answers, without the page (OctoPrint answers HEAD / too; 405 broke probes)."""
        self.get()

    def get(self):
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "same-origin")
        self.write(self.renderer.render())


class StaticHandler(tornado.web.StaticFileHandler):
    """Static files: versioned URLs cache for long, the rest revalidate (ES module imports)."""

    @classmethod
    def get_content_version(cls, abspath):
        # mtime and size instead of Tornado's content hash, which would read files on the event loop
        stat = os.stat(abspath)
        return f"{int(stat.st_mtime)}-{stat.st_size}"

    def validate_absolute_path(self, root, absolute_path):
        # no file name holds a NUL, and os.path.realpath raises ValueError on one
        if "\x00" in absolute_path:
            raise tornado.web.HTTPError(404)
        return super().validate_absolute_path(root, absolute_path)

    def set_extra_headers(self, path):
        self.set_header("X-Content-Type-Options", "nosniff")
        if not self.get_argument("v", None):
            self.set_header("Cache-Control", "no-cache")


def ui_routes(app_context):
    """Tornado URL specs for the UI: ``/``, plugin assets and ``/static/``."""
    renderer = PageRenderer(app_context)
    routes = [(r"/", IndexHandler, {"renderer": renderer})]
    for plugin in renderer.plugins:
        if plugin.asset_folder:
            routes.append((rf"/static/plugins/{re.escape(plugin.identifier)}/(.*)", StaticHandler,
                           {"path": plugin.asset_folder}))
    routes.append((r"/static/(.*)", StaticHandler, {"path": STATIC_DIR}))
    return routes
