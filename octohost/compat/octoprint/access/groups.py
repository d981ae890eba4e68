"""``octoprint.access.groups``: the group names."""

from . import ADMIN_GROUP, GUEST_GROUP, READONLY_GROUP, USER_GROUP  # noqa: F401
