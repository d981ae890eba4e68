"""Application keys: per-app API keys a user grants through the request/approve workflow.

An app asks for a key (``request``) and polls with the app token it got; the user sees the
pending request (by its separate user token, so the app cannot approve itself) and decides.
Granted keys are stored in ``appkeys.yaml`` (atomically; a failed write changes nothing) and work
like the user's own API key.
Pending requests live in memory and expire.
"""

import secrets
import threading
import time

import yaml

from octohost.util.fs import atomic_write

from .tokens import same_secret

PENDING, GRANTED, UNKNOWN = "pending", "granted", "unknown"


MAX_PENDING = 50


class AppKeyError(ValueError):
    pass


class TooManyRequests(AppKeyError):
    """More pending requests than anyone would approve: someone is flooding the endpoint."""


class PendingRequest:
    __slots__ = ("app", "user_name", "app_token", "user_token", "created", "api_key", "decided")

    def __init__(self, app, user_name, now):
        self.app = app
        self.user_name = user_name
        self.app_token = secrets.token_urlsafe(24)
        self.user_token = secrets.token_urlsafe(24)
        self.created = now
        self.api_key = None
        self.decided = False

    def as_dict(self):
        return {"app_id": self.app, "user_id": self.user_name, "user_token": self.user_token}


class AppKeyManager:
    def __init__(self, path, request_timeout=60.0, clock=time.monotonic):
        self.path = path
        self._timeout = request_timeout
        self._clock = clock
        self._lock = threading.RLock()
        self._pending = {}  # app_token -> PendingRequest
        self._keys = self._load()  # list of {"api_key", "app_id", "user_id", "created"}

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                data = yaml.safe_load(f) or []
        except FileNotFoundError:
            return []
        except yaml.YAMLError as exc:
            raise AppKeyError(f"{self.path}: cannot parse application keys: {exc}") from None
        if not isinstance(data, list):
            raise AppKeyError(f"{self.path}: expected a list of application keys")
        return [k for k in data if isinstance(k, dict) and k.get("api_key")]

    def _commit(self, keys):
        """Write ``keys`` and only then adopt them: a failed write changes nothing. The list is
        replaced whole, so readers of the keys take it without the lock and never wait for a write."""
        atomic_write(self.path, yaml.safe_dump(keys, default_flow_style=False), mode=0o600)
        self._keys = keys

    # -- the workflow --------------------------------------------------------------------------

    def _expire(self):
        now = self._clock()
        for token, request in list(self._pending.items()):
            if now - request.created > self._timeout:
                del self._pending[token]

    def request(self, app, user_name=None):
        """Start a request; returns the PendingRequest (app token for the app, user token for the UI)."""
        if not isinstance(app, str) or not app.strip() or len(app) > 200:
            raise AppKeyError("app must be a non-empty name of at most 200 characters")
        if user_name is not None and not isinstance(user_name, str):
            raise AppKeyError("user must be a string")
        with self._lock:
            self._expire()
            if len(self._pending) >= MAX_PENDING:
                raise TooManyRequests("too many pending application key requests; try again later")
            request = PendingRequest(app.strip(), user_name or None, self._clock())
            self._pending[request.app_token] = request
            return request

    def poll(self, app_token):
        """(PENDING, None), (GRANTED, api_key) once, or (UNKNOWN, None) if denied, expired or unknown."""
        with self._lock:
            self._expire()
            request = self._pending.get(app_token)
            if request is None:
                return UNKNOWN, None
            if not request.decided:
                request.created = max(request.created, self._clock() - self._timeout / 2)
                return PENDING, None
            del self._pending[app_token]
            if request.api_key is None:
                return UNKNOWN, None
            return GRANTED, request.api_key

    def pending_for(self, user_name, all_users=False):
        with self._lock:
            self._expire()
            return [r for r in self._pending.values() if not r.decided
                    and (all_users or r.user_name in (None, user_name))]

    def decide(self, user_token, user_name, approve, all_users=False):
        """Approve or deny a request as ``user_name``; False if there is no such request for them."""
        with self._lock:
            self._expire()
            for request in self._pending.values():
                if request.user_token != user_token or request.decided:
                    continue
                if request.user_name not in (None, user_name) and not all_users:
                    return False
                request.decided = True
                if approve:
                    owner = request.user_name or user_name
                    request.api_key = self.generate(owner, request.app)
                return True
            return False

    # -- keys ----------------------------------------------------------------------------------

    def generate(self, user_name, app):
        """A new key for (user, app), replacing an earlier one of the same pair."""
        with self._lock:
            key = secrets.token_urlsafe(32)
            self._commit([k for k in self._keys if not (k["user_id"] == user_name and k["app_id"] == app)]
                         + [{"api_key": key, "app_id": app, "user_id": user_name, "created": int(time.time())}])
            return key

    def keys(self, user_name=None):
        return [dict(k) for k in self._keys if user_name is None or k["user_id"] == user_name]

    def revoke(self, api_key, user_name=None):
        """Delete a key (only the user's own unless ``user_name`` is None); True if one was removed."""
        with self._lock:
            kept = [k for k in self._keys
                    if not (same_secret(api_key, k["api_key"]) and user_name in (None, k["user_id"]))]
            if len(kept) == len(self._keys):
                return False
            self._commit(kept)
            return True

    def revoke_user(self, user_name):
        with self._lock:
            kept = [k for k in self._keys if k["user_id"] != user_name]
            if len(kept) != len(self._keys):
                self._commit(kept)

    def user_for_key(self, api_key):
        """Name of the user an app key belongs to, or None."""
        if not api_key:
            return None
        for k in self._keys:
            if same_secret(api_key, k["api_key"]):
                return k["user_id"]
        return None
