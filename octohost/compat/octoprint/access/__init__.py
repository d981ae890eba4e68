"""``octoprint.access``: the group names."""

from octohost.access.permissions import ADMIN_GROUP, GUEST_GROUP, READONLY_GROUP, USER_GROUP  # noqa: F401
