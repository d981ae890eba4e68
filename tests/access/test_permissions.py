"""Groups and effective permissions, including plugin permissions from the hook."""

import types

from octohost.access.permissions import PermissionRegistry
from octohost.access.users import User
from octohost.plugin import PluginManager


def test_groups_get_octoprints_default_permissions():
    registry = PermissionRegistry()
    viewer = registry.for_user(User("v", groups=["readonly"]))
    user = registry.for_user(User("u", groups=["users"]))
    admin = registry.for_user(User("a", groups=["admins"]))
    assert {"STATUS", "FILES_LIST", "FILES_DOWNLOAD", "WEBCAM"} <= viewer
    assert not {"PRINT", "CONTROL", "FILES_UPLOAD", "CONNECTION", "SETTINGS"} & viewer
    assert {"SETTINGS_READ", "MONITOR_TERMINAL"} <= viewer  # as OctoPrint's read-only group
    assert {"PRINT", "CONTROL", "FILES_UPLOAD", "CONNECTION", "SETTINGS_READ"} <= user
    assert not {"ADMIN", "SETTINGS", "SYSTEM"} & user
    assert admin == frozenset(p.key for p in registry.all())


def test_anonymous_has_nothing_and_extra_user_permissions_add_up():
    registry = PermissionRegistry()
    assert registry.for_user(None) == frozenset()
    extra = registry.for_user(User("v", groups=["readonly"], permissions=["PRINT", "NOT_A_PERMISSION"]))
    assert "PRINT" in extra and "NOT_A_PERMISSION" not in extra
    assert registry.for_user(User("x", groups=[], permissions=["ADMIN"])) == frozenset(p.key for p in registry.all())


def test_plugin_permissions_are_prefixed_validated_and_grouped():
    module = types.ModuleType("perm_plugin")
    module.__plugin_hooks__ = {"octoprint.access.permissions": lambda *a, **k: [
        {"key": "launch", "name": "Launch", "default_groups": ["users", "nonsense"]},
        {"key": "no name"}, "not a dict"]}
    manager = PluginManager()
    manager.register_module("rocket", module)
    registry = PermissionRegistry(manager)
    assert "PLUGIN_ROCKET_LAUNCH" in registry
    assert "PLUGIN_ROCKET_LAUNCH" in registry.for_user(User("u", groups=["users"]))
    assert "PLUGIN_ROCKET_LAUNCH" not in registry.for_user(User("v", groups=["readonly"]))
    assert len([p for p in registry.all() if p.plugin == "rocket"]) == 1


def test_nested_permissions_and_roles_as_octoprint_resolves_them():
    # "permissions" nests others (even another plugin's, registered later), "roles" are the
    # plugin's own needs: holding a permission provides its needs; having one takes all of them
    first = types.ModuleType("first_plugin")
    first.__plugin_hooks__ = {"octoprint.access.permissions": lambda *a, **k: [
        {"key": "manage", "name": "Manage", "permissions": ["SETTINGS", "PLUGIN_SECOND_VIEW"], "roles": ["m"]},
        {"key": "broken", "name": "Broken", "permissions": ["NO_SUCH_PERMISSION"]}]}
    second = types.ModuleType("second_plugin")
    second.__plugin_hooks__ = {"octoprint.access.permissions": lambda *a, **k: [
        {"key": "view", "name": "View", "roles": ["v"], "default_groups": ["readonly"]},
        {"key": "peek", "name": "Peek", "roles": ["v"]}]}
    manager = PluginManager()
    manager.register_module("first", first)
    manager.register_module("second", second)
    registry = PermissionRegistry(manager)
    assert "PLUGIN_FIRST_MANAGE" in registry and "PLUGIN_FIRST_BROKEN" not in registry
    # granted MANAGE: SETTINGS and VIEW come with it; PEEK needs only role v, which VIEW provides
    manager_user = registry.for_user(User("m", groups=[], permissions=["PLUGIN_FIRST_MANAGE"]))
    assert {"PLUGIN_FIRST_MANAGE", "SETTINGS", "PLUGIN_SECOND_VIEW", "PLUGIN_SECOND_PEEK"} <= manager_user
    # holding SETTINGS and VIEW does not make MANAGE (its own role m is missing)
    both = registry.for_user(User("b", groups=[], permissions=["SETTINGS", "PLUGIN_SECOND_VIEW"]))
    assert "PLUGIN_FIRST_MANAGE" not in both
    viewer = registry.for_user(User("v", groups=["readonly"]))
    assert {"PLUGIN_SECOND_VIEW", "PLUGIN_SECOND_PEEK"} <= viewer and "SETTINGS" not in viewer
