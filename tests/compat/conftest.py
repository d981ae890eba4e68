"""Real OctoPrint plugins from PyPI (pinned in octoprint_plugins.txt) and a live octohost for them.

The plugins are installed once per requirements file with ``pip install --no-deps --target`` into a
cache folder that goes on ``sys.path`` (their entry points are then found like installed ones):
``--no-deps`` because each requires the OctoPrint distribution, which must not be installed beside
octohost's ``octoprint`` package. Their other dependencies are in setup.py's test extras.
"""

import hashlib
import os
import subprocess
import sys
import textwrap

import pytest
import requests

import octoprint_setuptools
from octohost.access.users import UserManager
from octohost.compat import discovery
from octohost.plugin import PluginManager
from octohost.server.app import Server
from octohost.settings import Settings

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.join(HERE, "octoprint_plugins.txt")
PASSWORD = "secret-pw"


def _install_dir():
    with open(REQUIREMENTS, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "octohost-tests", f"octoprint-plugins-{digest}")


@pytest.fixture(scope="session")
def octoprint_plugins_folder():
    """The folder the pinned plugins are installed in (installed on first use)."""
    target = _install_dir()
    done = os.path.join(target, ".installed")
    if not os.path.exists(done):
        # the build backend runs in a subprocess and imports octohost's octoprint_setuptools
        root = os.path.dirname(os.path.dirname(os.path.abspath(octoprint_setuptools.__file__)))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
        result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--use-pep517",
                                 "--no-build-isolation", "--target", target, "-r", REQUIREMENTS],
                                capture_output=True, text=True, timeout=300, env=env)
        assert result.returncode == 0, f"installing the test plugins failed:\n{result.stdout}\n{result.stderr}"
        open(done, "w").close()
    return target


@pytest.fixture
def octoprint_plugins(octoprint_plugins_folder, monkeypatch):
    """The pinned plugins on sys.path for one test only: other tests' plugin discovery must not
    find them."""
    monkeypatch.syspath_prepend(octoprint_plugins_folder)
    return octoprint_plugins_folder


class Live:
    def __init__(self, server, key):
        self.server = server
        self.url = server.url.rstrip("/")
        self.context = server.context
        self.session = requests.Session()
        self.session.headers["X-Api-Key"] = key
        self.password = PASSWORD  # the admin's (user "admin")

    def get(self, path, **kwargs):
        return self.session.get(self.url + path, timeout=30, **kwargs)

    def post(self, path, **kwargs):
        return self.session.post(self.url + path, timeout=30, **kwargs)


def _forget_plugin_modules(folder):
    """Each server imports the plugins afresh: their implementations are module-level objects that
    keep state (mfa_totp's enrolments) and are initialized once."""
    for name, module in list(sys.modules.items()):
        if (getattr(module, "__file__", None) or "").startswith(folder):
            del sys.modules[name]


@pytest.fixture
def live_octoprint(tmp_path, octoprint_plugins):
    """Start octohost with every installed OctoPrint plugin loaded; ``start(connect_virtual=...)``."""
    servers = []

    def start(connect_virtual=True, settings_values=None):
        _forget_plugin_modules(octoprint_plugins)
        settings = Settings(str(tmp_path / f"base{len(servers)}"))
        for key, value in (settings_values or {}).items():
            settings.set(key, value)
        users = UserManager(os.path.join(settings.basedir, "users.yaml"))
        users.add_user("admin", PASSWORD, admin=True)
        key = users.get_or_create_api_key("admin")
        plugin_manager = PluginManager(settings)
        for candidate in discovery.candidates(settings):
            plugin_manager.load_candidate(candidate)
        server = Server(settings, host="127.0.0.1", port=0, plugin_manager=plugin_manager,
                        connect_virtual=connect_virtual)
        server.start_in_thread()
        servers.append(server)
        return Live(server, key)

    yield start
    for server in servers:
        server.stop()
    _forget_plugin_modules(octoprint_plugins)


@pytest.fixture
def fake_dist(tmp_path, monkeypatch):
    """Install distributions into tmp_path: ``add(dist, entry_name, module, source)``."""
    monkeypatch.syspath_prepend(str(tmp_path))
    added = []

    def add(dist, entry_name, module, source):
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        # the folder name carries the normalized name (a '-' would end it: two dists named
        # OctoPrint-X and OctoPrint-Y would both read as "OctoPrint" and one would be hidden)
        info = tmp_path / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(f"[octoprint.plugin]\n{entry_name} = {module}\n")
        added.append(module)

    yield add
    for module in added:
        sys.modules.pop(module, None)
