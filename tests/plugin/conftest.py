import textwrap

import pytest

from octohost.plugin import PluginManager


@pytest.fixture
def plugin_folder(settings):
    folder = settings.folder("plugins")

    def add(name, source):
        import os

        path = os.path.join(folder, name)
        if name.endswith("/"):
            os.makedirs(path, exist_ok=True)
            path = os.path.join(path, "__init__.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(textwrap.dedent(source))
        return path

    return add


@pytest.fixture
def manager_for(settings):
    def make(**kwargs):
        pm = PluginManager(settings, **kwargs)
        pm.discover()
        return pm

    return make
