"""``octoprint.access.permissions``: ``Permissions.<KEY>`` with ``can()`` for the current request.

The attributes are the permission keys octohost knows: the core ones and ``PLUGIN_<ID>_<KEY>``
from the ``octoprint.access.permissions`` hook (as octohost's permission registry names them);
another name raises AttributeError, so ``hasattr(Permissions, "PLUGIN_X_Y")`` tells whether a plugin
is there, as in OctoPrint. ``can()`` asks the identity of the Flask request being served; outside a
request it is False. ``require(403)`` guards a view, as a decorator or a ``with`` block (Flask-Principal's
``Permission.require``, which OctoPrint's permissions are).
"""

import functools


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

    def require(self, http_exception=None):
        return _Requirement(self, http_exception)

    def test(self, http_exception=None):
        with self.require(http_exception):
            pass

    def get_name(self):
        return self.key

    def __repr__(self):
        return f"OctoPrintPermission({self.key!r})"


class _Requirement:
    """Aborts with ``http_exception`` (403 when None) unless the request's identity has the permission."""

    def __init__(self, permission, http_exception):
        self.permission = permission
        self.http_exception = http_exception or 403

    def __enter__(self):
        if not self.permission.can():
            from flask import abort

            abort(self.http_exception)
        return self

    def __exit__(self, *exc_info):
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def guarded(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return guarded


class _Permissions(type):
    def __getattr__(cls, key):
        from octohost.compat import layer

        if key.startswith("_") or key not in layer.permission_keys():
            raise AttributeError(key)
        return OctoPrintPermission(key)


class Permissions(metaclass=_Permissions):
    """``Permissions.SETTINGS``, ``Permissions.PLUGIN_FIRMWARE_CHECK_DISPLAY``, ..."""
