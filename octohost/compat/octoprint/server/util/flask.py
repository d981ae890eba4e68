"""``octoprint.server.util.flask``: request helpers plugins use inside their API handlers."""

import functools


def _identity():
    from flask import g

    return getattr(g, "identity", None)


def ensure_credentials_checked_recently():
    """OctoPrint asks for the password again after a while; octohost's sessions do not track that
    yet, so a logged-in identity passes."""
    identity = _identity()
    if identity is None or identity.user is None:
        from flask import abort

        abort(403)


def require_credentials_checked_recently(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        ensure_credentials_checked_recently()
        return func(*args, **kwargs)

    return wrapper


def no_firstrun_access(func):
    return func


def restricted_access(func):
    return func
