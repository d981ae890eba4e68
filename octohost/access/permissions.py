"""Permissions and groups with OctoPrint's names, so clients that check them find what they expect.

A user's effective permissions are the union of their groups' permissions and their own extra
permissions; ``ADMIN`` implies every permission. Anonymous requests get the ``guests`` group,
which holds nothing by default: everything that reveals or changes state needs a login.
Plugins add permissions through the ``access.permissions`` hook; their keys become
``PLUGIN_<ID>_<KEY>`` as in OctoPrint.
"""

import logging
import re

log = logging.getLogger(__name__)

ADMIN_GROUP = "admins"
USER_GROUP = "users"
READONLY_GROUP = "readonly"
GUEST_GROUP = "guests"

_READ = (READONLY_GROUP, USER_GROUP)
_USE = (USER_GROUP,)


class Permission:
    """``needs``: what holding it provides and what having it takes (OctoPrint's needs): its own
    key, or for a plugin permission that names ``roles`` and nested ``permissions``, those roles
    and the nested permissions' needs. So a user granted it gets the nested permissions too, and
    another permission whose needs are a subset of what the user's permissions provide is theirs."""

    __slots__ = ("key", "name", "description", "default_groups", "dangerous", "plugin", "needs")

    def __init__(self, key, name, description="", default_groups=(), dangerous=False, plugin=None, needs=None):
        self.key = key
        self.name = name
        self.description = description
        self.default_groups = tuple(default_groups)
        self.dangerous = dangerous
        self.plugin = plugin
        self.needs = frozenset(needs) if needs else frozenset({key})

    @property
    def role(self):
        """OctoPrint's name for the permission's need ("role"), which its records list as ``needs``."""
        return _ROLE_NAMES.get(self.key, self.key.lower())

    def as_dict(self):
        return {"key": self.key, "name": self.name, "description": self.description,
                "dangerous": self.dangerous, "default_groups": list(self.default_groups),
                "plugin": self.plugin, "needs": {"role": [self.role]}}


#: the roles whose name is not the permission key in lower case
_ROLE_NAMES = {"GCODE_VIEWER": "gcodeviewer"}


CORE_PERMISSIONS = (
    Permission("ADMIN", "Admin", "Everything, including users and settings.", (), dangerous=True),
    Permission("STATUS", "Status", "Printer state, temperatures and job progress.", _READ),
    Permission("CONNECTION", "Connection", "Connect to and disconnect from the printer.", _USE),
    Permission("WEBCAM", "Webcam", "Watch the webcam stream.", _READ),
    Permission("SYSTEM", "System", "Run system commands (restart, shutdown).", (), dangerous=True),
    Permission("FILES_LIST", "File list", "List files and their metadata.", _READ),
    Permission("FILES_UPLOAD", "File upload", "Upload files and create folders.", _USE),
    Permission("FILES_DOWNLOAD", "File download", "Download files.", _READ),
    Permission("FILES_DELETE", "File delete", "Delete files and folders.", _USE),
    Permission("FILES_SELECT", "File select", "Select a file for printing.", _USE),
    Permission("PRINT", "Print", "Start, pause, resume and cancel prints.", _USE),
    Permission("GCODE_VIEWER", "GCODE viewer", "View G-code files in the browser.", _READ),
    Permission("MONITOR_TERMINAL", "Terminal", "See the serial log in the terminal.", _READ),
    Permission("CONTROL", "Control", "Move the print head, set temperatures, send commands.", _USE),
    Permission("SLICE", "Slice", "Slice models.", _USE),
    Permission("TIMELAPSE_LIST", "Timelapse list", "List timelapses.", _READ),
    Permission("TIMELAPSE_DOWNLOAD", "Timelapse download", "Download timelapses.", _READ),
    Permission("TIMELAPSE_DELETE", "Timelapse delete", "Delete timelapses.", _USE),
    Permission("TIMELAPSE_MANAGE_UNRENDERED", "Timelapse unrendered", "Render or delete unrendered timelapses.", _USE),
    Permission("TIMELAPSE_ADMIN", "Timelapse admin", "Change timelapse settings.", _USE),
    Permission("SETTINGS_READ", "Settings read", "Read settings (secrets excluded).", _READ),
    Permission("SETTINGS", "Settings", "Change settings.", (), dangerous=True),
    Permission("PLUGIN_APPKEYS_ADMIN", "Application keys admin", "Manage every user's application keys.", (),
               dangerous=True, plugin="appkeys"),
    Permission("PLUGIN_APPKEYS_GRANT", "Application keys grant", "Approve or deny an application's request for a key.",
               _USE, plugin="appkeys"),
)

GROUPS = {
    ADMIN_GROUP: ("Admins", "Full access."),
    USER_GROUP: ("Operator", "Print, control and manage files."),
    READONLY_GROUP: ("Read-only Access", "See state and files, change nothing."),
    GUEST_GROUP: ("Guests", "Anonymous visitors."),
}
#: OctoPrint's flags of its four built-in groups (none can be removed; octohost changes none through the API)
_GROUP_FLAGS = {
    ADMIN_GROUP: {"changeable": False, "toggleable": True},
    USER_GROUP: {"changeable": True, "toggleable": True},
    READONLY_GROUP: {"changeable": False, "toggleable": True},
    GUEST_GROUP: {"changeable": True, "toggleable": False},
}

_PLUGIN_KEY_RE = re.compile(r"^[A-Za-z0-9_]+$")


class PermissionRegistry:
    """All known permissions (core and plugins) and what each group and user may do."""

    def __init__(self, plugin_manager=None):
        self._permissions = {p.key: p for p in CORE_PERMISSIONS}
        self._derived = False  # whether any permission's needs are other than its own key
        if plugin_manager is not None:
            self._add_plugin_permissions(plugin_manager)

    def _add_plugin_permissions(self, plugin_manager):
        pending = []
        for identifier, entries in plugin_manager.call("access.permissions"):
            for entry in entries or []:
                key = entry.get("key") if isinstance(entry, dict) else None
                if not isinstance(key, str) or not _PLUGIN_KEY_RE.match(key) or not entry.get("name"):
                    log.warning("plugin %s returned an invalid permission %r; skipped", identifier, entry)
                    continue
                pending.append((identifier, entry))
        # nested permissions may name another plugin's, registered later: resolve in passes, as
        # OctoPrint does, until a pass makes no progress
        while pending:
            left = [(identifier, entry) for identifier, entry in pending if not self._add(identifier, entry)]
            if len(left) == len(pending):
                for identifier, entry in left:
                    log.warning("plugin %s: permission %r names permissions that do not exist; skipped",
                                identifier, entry.get("key"))
                break
            pending = left

    def _add(self, identifier, entry):
        nested = entry.get("permissions") or []
        roles = entry.get("roles") or []
        if not isinstance(nested, (list, tuple)) or not isinstance(roles, (list, tuple)):
            return False
        needs = set()
        for name in nested:
            permission = self._permissions.get(getattr(name, "key", name))
            if permission is None:
                return False
            needs |= permission.needs
        needs |= {f"role:plugin_{identifier}_{role}" for role in roles}
        full_key = f"PLUGIN_{identifier.upper()}_{entry['key'].upper()}"
        groups = [g for g in entry.get("default_groups") or [] if g in GROUPS]
        self._permissions[full_key] = Permission(full_key, entry["name"], entry.get("description", ""), groups,
                                                 bool(entry.get("dangerous")), identifier, needs or None)
        self._derived = self._derived or bool(needs)
        return True

    def _closure(self, keys):
        """Every permission whose needs what ``keys`` provide cover."""
        if not self._derived:
            return frozenset(keys)
        provided = set()
        for key in keys:
            provided |= self._permissions[key].needs
        return frozenset(p.key for p in self._permissions.values() if p.needs <= provided)

    def all(self):
        return list(self._permissions.values())

    def __contains__(self, key):
        return key in self._permissions

    def for_groups(self, groups):
        if ADMIN_GROUP in groups:
            return frozenset(self._permissions)
        return self._closure(p.key for p in self._permissions.values() if any(g in p.default_groups for g in groups))

    def for_user(self, user):
        """Effective permission keys of ``user`` (None: anonymous, the guests group)."""
        if user is None:
            return self.for_groups((GUEST_GROUP,))
        keys = set(self.for_groups(user.groups)) | {k for k in user.permissions if k in self._permissions}
        if "ADMIN" in keys:
            return frozenset(self._permissions)
        return self._closure(keys)

    def needs(self, groups, permission_keys):
        """OctoPrint's ``needs`` of a user or group record: its groups and its permissions' roles
        (a key only when it has entries, as OctoPrint leaves empty ones out)."""
        roles = sorted(self._permissions[k].role for k in permission_keys if k in self._permissions)
        needs = {"group": list(groups)}
        if roles:
            needs["role"] = roles
        return needs

    def groups(self):
        records = []
        for key, (name, description) in GROUPS.items():
            keys = self.for_groups((key,))
            records.append({"key": key, "name": name, "description": description, "permissions": sorted(keys),
                            "default": key == USER_GROUP, "removable": False, "subgroups": [],
                            "dangerous": any(self._permissions[k].dangerous for k in keys),
                            "needs": self.needs([key], keys), **_GROUP_FLAGS[key]})
        return records
