"""``octoprint.server``: the names plugins import from OctoPrint's server package."""

NO_CONTENT = ("", 204, {"Content-Type": "text/plain"})


def __getattr__(name):
    """The permissions older plugins import from here (``admin_permission``, ``user_permission``)."""
    from octoprint.access.permissions import Permissions

    aliases = {"admin_permission": "ADMIN", "user_permission": "STATUS"}
    if name in aliases:
        return getattr(Permissions, aliases[name])
    raise AttributeError(name)
