"""Login sessions of the web UI: random ids kept in memory, expiring after inactivity.

The session id travels in a cookie and, as OctoPrint does, in the login answer so that the push
socket can authenticate with ``{"auth": "name:session"}``. The CSRF token is an HMAC of the
session id under the installation's secret key, so it cannot be guessed from the cookie alone.
"""

import hashlib
import hmac
import secrets
import threading
import time


class Session:
    __slots__ = ("id", "user_name", "created", "last_seen", "csrf_token")

    def __init__(self, session_id, user_name, csrf_token, now):
        self.id = session_id
        self.user_name = user_name
        self.csrf_token = csrf_token
        self.created = now
        self.last_seen = now


MAX_SESSIONS = 1000


class SessionStore:
    """At most ``MAX_SESSIONS`` live sessions; beyond that the least recently used one ends."""

    def __init__(self, secret, timeout_seconds, clock=time.monotonic):
        self._secret = secret.encode("utf-8")
        self._timeout = timeout_seconds
        self._clock = clock
        self._sessions = {}
        self._lock = threading.Lock()

    def csrf_token_for(self, session_id):
        return hmac.new(self._secret, session_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def create(self, user_name):
        session_id = secrets.token_urlsafe(32)
        session = Session(session_id, user_name, self.csrf_token_for(session_id), self._clock())
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions.values(), key=lambda s: s.last_seen)
                del self._sessions[oldest.id]
            self._sessions[session_id] = session
        return session

    def get(self, session_id):
        """The live session with that id (refreshing its expiry), or None."""
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self._timeout:
                del self._sessions[session_id]
                return None
            session.last_seen = now
            return session

    def remove(self, session_id):
        with self._lock:
            return self._sessions.pop(session_id, None)

    def remove_user(self, user_name):
        """End every session of a user (deleted, deactivated or password changed)."""
        with self._lock:
            gone = [sid for sid, s in self._sessions.items() if s.user_name == user_name]
            for sid in gone:
                del self._sessions[sid]
        return gone
