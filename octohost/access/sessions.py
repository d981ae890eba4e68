"""Login sessions of the web UI: random ids, expiring after inactivity, surviving a restart.

The session id travels in a cookie and, as OctoPrint does, in the login answer so that the push
socket can authenticate with ``{"auth": "name:session"}``. The CSRF token is an HMAC of the
session id under the installation's secret key, so it cannot be guessed from the cookie alone.

With a ``path`` the sessions are kept in a file (mode 0600, written atomically on login, logout
and shutdown) so that restarting the daemon logs nobody out. The file holds SHA-256 digests of
the ids, never the ids themselves: a copy of it lets nobody in.

A session created with ``remember`` (the login form's "remember me") lasts ``REMEMBER_SECONDS`` of
inactivity instead of the configured timeout, and its cookie is persistent for as long, as
OctoPrint's remember-me cookie is.
"""

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time

from octohost.util.fs import atomic_write

log = logging.getLogger(__name__)

MAX_SESSIONS = 1000
#: OctoPrint's remember-me cookie lasts 90 days
REMEMBER_SECONDS = 90 * 24 * 3600


class Session:
    __slots__ = ("id", "user_name", "created", "last_seen", "csrf_token", "remember")

    def __init__(self, session_id, user_name, csrf_token, created, last_seen=None, remember=False):
        self.id = session_id  # None for a session loaded from disk until its holder comes back
        self.user_name = user_name
        self.csrf_token = csrf_token
        self.created = created
        self.last_seen = created if last_seen is None else last_seen
        self.remember = remember


def _digest(session_id):
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class SessionStore:
    """At most ``MAX_SESSIONS`` live sessions; beyond that the least recently used one ends."""

    def __init__(self, secret, timeout_seconds, clock=time.time, path=None):
        self._secret = secret.encode("utf-8")
        self._timeout = timeout_seconds
        self._clock = clock
        self._path = path
        self._sessions = {}  # digest of the id -> Session
        # ``_lock`` guards the sessions in memory and is never held across the file's write, so
        # looking a session up (on the server's event loop too) never waits for the disk;
        # ``_write_lock`` keeps one writer at a time, each writing what memory held when it began
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        if path is not None:
            self._load()

    def csrf_token_for(self, session_id):
        return hmac.new(self._secret, session_id.encode("utf-8"), hashlib.sha256).hexdigest()

    def lifetime(self, session):
        """Seconds of inactivity after which ``session`` ends."""
        return max(self._timeout, REMEMBER_SECONDS) if session.remember else self._timeout

    def create(self, user_name, remember=False):
        session_id = secrets.token_urlsafe(32)
        session = Session(session_id, user_name, self.csrf_token_for(session_id), self._clock(), remember=remember)
        with self._write_lock:
            with self._lock:
                if len(self._sessions) >= MAX_SESSIONS:
                    oldest = min(self._sessions, key=lambda key: self._sessions[key].last_seen)
                    del self._sessions[oldest]
                self._sessions[_digest(session_id)] = session
                entries = self._entries()
            self._write(entries)
        return session

    def get(self, session_id):
        """The live session with that id (refreshing its expiry), or None."""
        if not session_id:
            return None
        key = _digest(session_id)
        now = self._clock()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if now - session.last_seen > self.lifetime(session):
                del self._sessions[key]
                return None
            if session.id is None:
                session.id = session_id
                session.csrf_token = self.csrf_token_for(session_id)
            session.last_seen = now
            return session

    def remove(self, session_id):
        with self._write_lock:
            with self._lock:
                session = self._sessions.pop(_digest(session_id), None)
                entries = self._entries() if session is not None else None
            self._write(entries)
        return session

    def remove_user(self, user_name, keep=None):
        """End every session of a user (deleted, deactivated or password changed) but the one with
        id ``keep``; returns the known ids of those ended."""
        keep_key = _digest(keep) if keep else None
        with self._write_lock:
            with self._lock:
                gone = [key for key, s in self._sessions.items() if s.user_name == user_name and key != keep_key]
                ids = [self._sessions.pop(key).id for key in gone]
                entries = self._entries() if gone else None
            self._write(entries)
        return [session_id for session_id in ids if session_id is not None]

    def save(self):
        """Write the sessions with their last activity (at shutdown; logins and logouts save anyway)."""
        with self._write_lock:
            with self._lock:
                entries = self._entries()
            self._write(entries)

    # -- the file ----------------------------------------------------------------------------------

    def _entries(self):
        """What the file holds of the sessions now (under ``_lock``); None without a file."""
        if self._path is None:
            return None
        now = self._clock()
        return [{"digest": key, "user": s.user_name, "created": s.created, "last_seen": s.last_seen,
                 "remember": s.remember}
                for key, s in self._sessions.items() if now - s.last_seen <= self.lifetime(s)]

    def _write(self, entries):
        """Write ``entries`` (None: nothing changed) under ``_write_lock``, outside ``_lock``."""
        if entries is None:
            return
        try:
            atomic_write(self._path, json.dumps({"sessions": entries}, indent=1), mode=0o600)
        except OSError as exc:
            log.warning("could not save the login sessions to %s (%s); a restart will log users out",
                        self._path, exc)

    def _load(self):
        try:
            with open(self._path, encoding="utf-8") as f:
                entries = json.load(f)["sessions"]
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring the unreadable session file %s (%s): everybody logs in again", self._path, exc)
            return
        now = self._clock()
        for entry in entries:
            try:
                session = Session(None, str(entry["user"]), None, float(entry["created"]), float(entry["last_seen"]),
                                  remember=entry.get("remember") is True)
                key = str(entry["digest"])
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
            if now - session.last_seen <= self.lifetime(session):
                self._sessions[key] = session
