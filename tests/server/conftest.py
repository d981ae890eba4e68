"""A real octohost server on 127.0.0.1 (free port) per test, with one user per role."""

import os
import shutil

import pytest
import requests

from octohost.access.users import UserManager
from octohost.plugin import PluginManager
from octohost.server.app import Server
from octohost.settings import Settings

ROLES = {"admin": {"admin": True}, "user": {"groups": ["users"]}, "viewer": {"groups": ["readonly"]}}
PASSWORD = "secret-pw"


class Running:
    """What a test needs to talk to a running server."""

    def __init__(self, server, keys):
        self.server = server
        self.url = server.url.rstrip("/")
        self.keys = keys
        self.context = server.context
        self.password = PASSWORD

    def client(self, role=None):
        session = requests.Session()
        if role is not None:
            session.headers["X-Api-Key"] = self.keys[role]
        return session

    def get(self, path, role="admin", **kwargs):
        with self.client(role) as session:
            return session.get(self.url + path, timeout=30, **kwargs)

    def post(self, path, role="admin", **kwargs):
        with self.client(role) as session:
            return session.post(self.url + path, timeout=30, **kwargs)

    def login(self, name="admin"):
        """A cookie session as the UI has it, with the CSRF header set."""
        session = requests.Session()
        response = session.post(self.url + "/api/login", json={"user": name, "pass": PASSWORD}, timeout=30)
        assert response.status_code == 200, response.text
        session.headers["X-CSRF-Token"] = session.cookies[f"csrf_token_P{self.server.port}"]
        return session, response.json()


def make_settings(basedir, **values):
    settings = Settings(str(basedir))
    for key, value in values.items():
        settings.set(key, value)
    return settings


@pytest.fixture(scope="session")
def users_template(tmp_path_factory):
    """users.yaml with one user per role, hashed once per run (hashing is deliberately slow)."""
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    manager = UserManager(str(path))
    keys = {}
    for name, options in ROLES.items():
        manager.add_user(name, PASSWORD, **options)
        keys[name] = manager.get_or_create_api_key(name)
    return path, keys


def _server_factory(root, users_template):
    started = []

    def start(users=True, settings_values=None, plugins=None, connect_virtual=False):
        """``plugins``: {identifier: module} registered before the server starts."""
        basedir = root / f"base{len(started)}"
        settings = make_settings(basedir, **(settings_values or {}))
        plugin_manager = None
        if plugins:
            plugin_manager = PluginManager(settings)
            for identifier, module in plugins.items():
                plugin_manager.register_module(identifier, module)
        keys = {}
        if users:
            template, keys = users_template
            shutil.copy(template, os.path.join(settings.basedir, "users.yaml"))
        server = Server(settings, host="127.0.0.1", port=0, plugin_manager=plugin_manager,
                        connect_virtual=connect_virtual)
        server.start_in_thread()
        started.append(server)
        return Running(server, keys)

    return start, started


@pytest.fixture
def start_server(tmp_path, users_template):
    start, started = _server_factory(tmp_path, users_template)
    yield start
    for server in started:
        server.stop()


@pytest.fixture
def running(start_server):
    return start_server()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, users_template):
    """One server for a whole module of tests that leave no state behind."""
    start, started = _server_factory(tmp_path_factory.mktemp("shared"), users_template)
    yield start()
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def start_module_server(tmp_path_factory, users_template):
    """``start_server`` for servers that a whole module shares (they keep state between tests)."""
    start, started = _server_factory(tmp_path_factory.mktemp("module"), users_template)
    yield start
    for server in started:
        server.stop()


@pytest.fixture
def pty_printer():
    """A virtual printer on a pseudo-terminal, for a server to connect to by its path; closed after."""
    from octohost.comm.virtual.pty import serve_pty

    virtual = serve_pty()
    yield virtual
    virtual.close()
