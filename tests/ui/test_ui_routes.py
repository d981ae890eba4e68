"""The UI's routes in a real Tornado server: the page, static files and plugin contributions."""

import asyncio
import json
import re
import threading
import types

import pytest
import requests
import tornado.web
from tornado.ioloop import IOLoop

from octohost.plugin import PluginManager
from octohost.server.ui import PageRenderer, collect_templates, form_schema, ui_routes
from octohost.settings import Settings


class TabPlugin:
    """A plugin in the OctoPrint style: a tab, a settings page, assets and a template type."""

    def __init__(self, folder):
        self.folder = folder

    def get_template_configs(self):
        return [{"type": "tab", "name": "Spool <b>Manager</b>"},
                {"type": "settings", "template": "spools_settings.jinja2"},
                {"type": "plugin_spools_widget", "name": "Widget"}]

    def get_template_folder(self):
        return str(self.folder / "templates")

    def get_asset_folder(self):
        return str(self.folder / "static")

    def get_assets(self):
        return {"js": ["js/spools.js"], "css": ["css/spools.css"]}

    def get_template_vars(self):
        return {"greeting": "hello from spools"}

    def add_types(self, template_sorting, template_rules):
        return [("widget", {}, {"template": lambda plugin_id: f"{plugin_id}_widget.jinja2"})]


def make_plugin(folder):
    (folder / "templates").mkdir(parents=True)
    (folder / "static" / "js").mkdir(parents=True)
    (folder / "templates" / "spools_tab.jinja2").write_text(
        '<div id="spools-tab">{{ plugin_spools_greeting }}'
        "{% for key in templates.plugin_spools_widget.order %}"
        "{% set name, config = templates.plugin_spools_widget.entries[key] %}"
        "<p class=\"widget\">{{ name }}: {% include config.template %}</p>{% endfor %}</div>")
    (folder / "templates" / "spools_settings.jinja2").write_text('<p id="spools-settings">settings</p>')
    (folder / "templates" / "spools_widget.jinja2").write_text("<em>widget body</em>")
    (folder / "templates" / "spools_sidebar.jinja2").write_text('<p id="spools-sidebar">found by its name</p>')
    (folder / "static" / "js" / "spools.js").write_text("window.spoolsLoaded = true;\n")
    (folder / "secret.txt").write_text("not for the web")
    implementation = TabPlugin(folder)
    module = types.ModuleType("spools")
    module.__plugin_name__ = "Spools"
    module.__plugin_implementation__ = implementation
    module.__plugin_hooks__ = {"octoprint.ui.web.templatetypes": implementation.add_types}
    return module


@pytest.fixture
def settings(tmp_path):
    settings = Settings(tmp_path / "base")
    settings.set("appearance.name", "Workshop <Prusa>")
    return settings


@pytest.fixture
def plugin_manager(settings, tmp_path):
    manager = PluginManager(settings)
    manager.register_module("spools", make_plugin(tmp_path / "spools"), origin="folder")
    return manager


@pytest.fixture
def server(settings, plugin_manager):
    """The UI routes alone on 127.0.0.1, on a free port, served from a background IOLoop."""
    context = types.SimpleNamespace(settings=settings, plugin_manager=plugin_manager, version={"version": "9.9.9"})
    started = threading.Event()
    state = {}

    def serve():
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = IOLoop.current()
        application = tornado.web.Application(ui_routes(context))
        http = application.listen(0, "127.0.0.1")
        state.update(loop=loop, http=http, port=next(iter(http._sockets.values())).getsockname()[1])
        started.set()
        loop.start()
        http.stop()
        loop.close(all_fds=True)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(10), "the UI server did not start"
    yield f"http://127.0.0.1:{state['port']}"
    state["loop"].add_callback(state["loop"].stop)
    thread.join(10)
    assert not thread.is_alive()


def test_index_renders_the_shell_with_escaped_name_and_client_config(server):
    response = requests.get(server + "/", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Cache-Control"] == "no-cache"
    html = response.text
    assert "<title>Workshop &lt;Prusa&gt; · octohost</title>" in html
    assert "<Prusa>" not in html
    config_text = re.search(r'<script type="application/json" id="octohost-config">(.*?)</script>', html, re.S).group(1)
    config = json.loads(config_text)
    assert config["version"] == "9.9.9"
    assert config["settingsSchema"]["serial.window"]["choices"] == ["ping-pong", "rx-bytes", "advanced-ok"]
    assert '/static/js/app.js?v=9.9.9' in html


def test_plugin_tab_settings_sidebar_and_custom_type_are_included(server):
    html = requests.get(server + "/", timeout=10).text
    assert 'id="tab-tab_plugin_spools"' in html
    assert "Spool &lt;b&gt;Manager&lt;/b&gt;" in html
    assert "hello from spools" in html
    assert '<p class="widget">Widget: <em>widget body</em></p>' in html
    assert '<p id="spools-settings">settings</p>' in html
    assert '<p id="spools-sidebar">found by its name</p>' in html
    assert '<script src="/static/plugins/spools/js/spools.js" defer></script>' in html
    assert "/static/plugins/spools/css/spools.css" in html


def test_static_files_and_plugin_assets_are_served(server):
    script = requests.get(server + "/static/js/app.js", timeout=10)
    assert script.status_code == 200
    assert "javascript" in script.headers["Content-Type"]
    assert script.headers["Cache-Control"] == "no-cache"
    versioned = requests.get(server + "/static/css/octohost.css?v=9.9.9", timeout=10)
    assert versioned.status_code == 200
    assert "max-age" in versioned.headers["Cache-Control"]
    asset = requests.get(server + "/static/plugins/spools/js/spools.js", timeout=10)
    assert asset.text == "window.spoolsLoaded = true;\n"
    assert requests.get(server + "/static/js/nothing.js", timeout=10).status_code == 404


@pytest.mark.parametrize("path", ["/static/../server/ui.py", "/static/%2e%2e/server/ui.py",
                                  "/static/plugins/spools/../secret.txt", "/static/plugins/spools/%2e%2e/secret.txt"])
def test_static_paths_cannot_leave_their_folder(server, path):
    response = requests.get(server + path, timeout=10)
    assert response.status_code in (403, 404)
    assert "not for the web" not in response.text
    assert "PageRenderer" not in response.text


@pytest.mark.parametrize("path", ["/static/nul%00byte.js", "/static/js/%00", "/static/plugins/spools/%00.js"])
def test_static_path_with_a_nul_byte_is_not_found(server, path):
    """A NUL cannot be in a file name; os.path.realpath raised on it (found by the fuzzer)."""
    assert requests.get(server + path, timeout=10).status_code == 404


def test_every_template_the_page_uses_exists_and_ids_are_unique(server):
    html = requests.get(server + "/", timeout=10).text
    ids = re.findall(r'\sid="([^"]+)"', html)
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert not duplicates
    for label_target in re.findall(r'<label[^>]*\sfor="([^"]+)"', html):
        assert label_target in ids, f"label for missing #{label_target}"


def test_broken_plugin_does_not_break_the_page(settings, tmp_path):
    class Broken:
        def get_template_configs(self):
            raise RuntimeError("boom")

    module = types.ModuleType("broken")
    module.__plugin_implementation__ = Broken()
    manager = PluginManager(settings)
    manager.register_module("broken", module)
    templates, plugins = collect_templates(manager)
    assert templates["tab"] == {"entries": {}, "order": []}
    assert [p.identifier for p in plugins] == ["broken"]


def test_a_plugin_template_that_does_not_compile_is_left_out(settings, tmp_path):
    folder = tmp_path / "broken_ui"
    (folder / "templates").mkdir(parents=True)
    (folder / "templates" / "broken_ui_tab.jinja2").write_text("{% for x in %}")
    (folder / "templates" / "broken_ui_sidebar.jinja2").write_text('<p id="still-here">fine</p>')

    class Plugin:
        def get_template_folder(self):
            return str(folder / "templates")

        def get_assets(self):
            return ["not", "a", "mapping"]

    module = types.ModuleType("broken_ui")
    module.__plugin_implementation__ = Plugin()
    manager = PluginManager(settings)
    manager.register_module("broken_ui", module)
    renderer = PageRenderer(types.SimpleNamespace(settings=settings, plugin_manager=manager, version={"version": "1"}))
    html = renderer.render()
    assert '<p id="still-here">fine</p>' in html
    assert "tab_plugin_broken_ui" not in html


def test_form_schema_covers_only_the_sections_the_ui_edits():
    schema = form_schema()
    assert schema["appearance.color"]["choices"][0] == "default"
    assert schema["serial.timeout.communication"]["type"] == "number"
    assert not any(key.startswith(("server.", "accessControl.")) for key in schema)
