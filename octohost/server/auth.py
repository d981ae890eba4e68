"""Who is making a request: one set of rules for Flask views, Tornado handlers and the push socket.

Credentials, in order: an API key (``X-Api-Key`` header, ``Authorization: Bearer``, ``apikey``
query parameter) that is a user's key, an application key or accepted by an
``accesscontrol.keyvalidator`` plugin; then the session cookie. Autologin for local networks
only turns a passive login into a session, so every cookie write still needs the CSRF token.
A key that nobody recognises makes the request count as invalid (403),
never silently anonymous. Cookie-authenticated writes must carry the CSRF token (header
``X-CSRF-Token`` equal to the ``csrf_token_P<port>`` cookie), as in OctoPrint.

Passwords are checked only through :meth:`Authenticator.check_password`, which applies the
login back-off (:mod:`octohost.access.throttle`) per user and client address.
"""

import ipaddress
import logging
import math

from octohost.access.throttle import LoginThrottle
from octohost.access.tokens import same_secret

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Identity:
    """The outcome of authentication for one request."""

    __slots__ = ("user", "via", "session", "permissions", "invalid_key")

    def __init__(self, user=None, via=None, session=None, permissions=frozenset(), invalid_key=False):
        self.user = user
        self.via = via  # "apikey", "appkey", "plugin", "session" or None
        self.session = session
        self.permissions = permissions
        self.invalid_key = invalid_key

    @property
    def anonymous(self):
        return self.user is None

    def has(self, permission):
        return permission in self.permissions


class LoginThrottled(Exception):
    """Too many wrong passwords from this address (for this user): try again in ``retry_after`` s."""

    def __init__(self, retry_after):
        super().__init__(f"Too many failed login attempts; try again in {math.ceil(retry_after)} s")
        self.retry_after = retry_after


class Authenticator:
    def __init__(self, settings, user_manager, sessions, appkeys, permissions, plugin_manager, port,
                 throttle=None):
        self.settings = settings
        self.user_manager = user_manager
        self.sessions = sessions
        self.appkeys = appkeys
        self.permissions = permissions
        self.plugin_manager = plugin_manager
        self.session_cookie = f"session_P{port}"
        self.csrf_cookie = f"csrf_token_P{port}"
        self.throttle = throttle if throttle is not None else LoginThrottle()

    # -- building blocks -----------------------------------------------------------------------

    @staticmethod
    def api_key_from(headers, query_apikey):
        key = headers.get("X-Api-Key")
        if not key:
            auth = headers.get("Authorization") or ""
            if auth[:7].lower() == "bearer ":
                key = auth[7:].strip()
        return key or query_apikey or None

    def identity_for(self, user, via, session=None):
        return Identity(user, via, session, self.permissions.for_user(user))

    def check_password(self, name, password, address):
        """The user if ``password`` is theirs, else None; raises LoginThrottled (without checking)
        while ``address`` has to wait after failures. Unknown users cost a hash check too."""
        wait = self.throttle.retry_after(name, address)
        if wait > 0:
            raise LoginThrottled(wait)
        user = self.user_manager.check_password(name, password)
        if user is None:
            self.throttle.failed(name, address)
            log.warning("failed password check for user %r from %s", name, address)
        else:
            self.throttle.succeeded(name, address)
        return user

    def user_for_key(self, api_key):
        user = self.user_manager.find_by_apikey(api_key)
        if user is not None:
            return user, "apikey"
        owner = self.appkeys.user_for_key(api_key)
        if owner is not None:
            user = self.user_manager.get_user(owner)
            if user is not None and user.active:
                return user, "appkey"
        _, user = self.plugin_manager.call_until("accesscontrol.keyvalidator", lambda u: u is not None, api_key)
        if user is not None:
            return user, "plugin"
        return None, None

    def user_for_session(self, session_id):
        session = self.sessions.get(session_id)
        if session is None:
            return None, None
        user = self.user_manager.get_user(session.user_name)
        if user is None or not user.active:
            self.sessions.remove(session_id)
            return None, None
        return user, session

    def is_local(self, remote_ip):
        try:
            address = ipaddress.ip_address(remote_ip)
        except ValueError:
            return False
        for network in self.settings.get("accessControl.localNetworks"):
            try:
                if address in ipaddress.ip_network(network, strict=False):
                    return True
            except ValueError:
                log.warning("ignoring invalid accessControl.localNetworks entry %r", network)
        return False

    # -- the whole decision --------------------------------------------------------------------

    def identify(self, headers, cookies, query_apikey=None):
        """The Identity of a request; ``cookies`` maps names to values."""
        api_key = self.api_key_from(headers, query_apikey)
        if api_key:
            user, via = self.user_for_key(api_key)
            if user is None:
                return Identity(invalid_key=True, permissions=self.permissions.for_user(None))
            return self.identity_for(user, via)
        user, session = self.user_for_session(cookies.get(self.session_cookie))
        if user is not None:
            return self.identity_for(user, "session", session)
        return self.identity_for(None, None)

    def autologin_user(self, remote_ip):
        """The user a passive login from ``remote_ip`` becomes, if autologin applies (else None)."""
        if not self.settings.get("accessControl.autologinLocal") or not remote_ip or not self.is_local(remote_ip):
            return None
        name = self.settings.get("accessControl.autologinAs")
        user = self.user_manager.get_user(name) if name else None
        return user if user is not None and user.active else None

    def csrf_ok(self, identity, method, header_token, cookie_token):
        """True unless a cookie-authenticated write lacks a matching CSRF token."""
        if method in SAFE_METHODS or identity.via != "session":
            return True
        expected = identity.session.csrf_token
        return bool(header_token and cookie_token
                    and same_secret(header_token, expected) and same_secret(cookie_token, expected))
