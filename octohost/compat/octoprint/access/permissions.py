"""``octoprint.access.permissions``: ``Permissions.<KEY>`` with ``can()`` for the current request.

Any attribute name is a permission key: the core ones and ``PLUGIN_<ID>_<KEY>`` from the
``octoprint.access.permissions`` hook (registered by octohost's permission registry) alike.
``can()`` asks the identity of the Flask request being served; outside a request it is False.
"""


class OctoPrintPermission:
    def __init__(self, key):
        self.key = key

    def can(self):
        try:
            from flask import g, has_request_context
        except ImportError:
            return False
        if not has_request_context():
            return False
        identity = getattr(g, "identity", None)
        return identity is not None and identity.has(self.key)

    def allows(self, identity):
        return identity is not None and identity.has(self.key)

    def get_name(self):
        return self.key

    def __repr__(self):
        return f"OctoPrintPermission({self.key!r})"


class _Permissions(type):
    def __getattr__(cls, key):
        if key.startswith("_") or not key.isupper():
            raise AttributeError(key)
        return OctoPrintPermission(key)


class Permissions(metaclass=_Permissions):
    """``Permissions.SETTINGS``, ``Permissions.PLUGIN_FIRMWARE_CHECK_DISPLAY``, ..."""
