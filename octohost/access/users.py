"""Users stored in ``users.yaml``: salted slow password hashes, random API keys, groups.

Every change is all or nothing: it is made on a copy, written atomically (temp file + rename), and
only then becomes what the manager answers, so a failed write (disk full, a value YAML cannot
store) leaves memory as it was and equal to the file.

The command line changes the same file while the daemon runs: every change holds the file's
cross-process lock and starts from the file as it is now, and every query first picks up a file
another process rewrote (one ``stat``), so a user or key made by ``octohost user`` works at once
and is never overwritten by the daemon's older copy.
"""

import contextlib
import copy
import logging
import re
import secrets
import threading

import yaml
from werkzeug.security import check_password_hash, generate_password_hash

from octohost.util.fs import atomic_write
from octohost.util.shared_file import SharedFile

from .tokens import same_secret

log = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@+-]{1,64}$")
ADMIN_GROUP = "admins"
USER_GROUP = "users"


_dummy = []
_dummy_lock = threading.Lock()


def _dummy_hash():
    """A hash of a random password, made like real ones, to verify against for unknown users."""
    with _dummy_lock:
        if not _dummy:
            _dummy.append(generate_password_hash(secrets.token_urlsafe(16)))
        return _dummy[0]


#: new passwords (first admin, added users, changes) are at least this long; the UI says so too
MIN_PASSWORD_LENGTH = 8


class UserError(ValueError):
    """Bad input for a user operation (unknown user, invalid name, weak password, ...)."""


class UnknownUser(UserError):
    pass


class UserAlreadyExists(UserError):
    pass


class User:
    def __init__(self, name, groups=(), active=True, apikey=None, settings=None, permissions=()):
        self.name = name
        self.groups = list(groups)
        self.active = active
        self.apikey = apikey
        self.settings = settings or {}
        self.permissions = list(permissions)

    @property
    def is_admin(self):
        return ADMIN_GROUP in self.groups

    def as_dict(self):
        return {"name": self.name, "active": self.active, "admin": self.is_admin,
                "groups": list(self.groups), "permissions": list(self.permissions)}

    def __repr__(self):
        return f"User({self.name!r}, groups={self.groups!r})"


class UserManager:
    def __init__(self, path):
        self.path = path
        self._lock = threading.RLock()
        self._file = SharedFile(path)
        self._bad_stamp = None  # a version of the file that did not parse, warned about once
        stamp = self._file.stamp()
        self._users = self._load()
        self._file.remember(stamp)

    def _load(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                data = yaml.safe_load(f) or {}
        except FileNotFoundError:
            return {}
        except yaml.YAMLError as exc:
            raise UserError(f"{self.path}: cannot parse users file: {exc}") from None
        if not isinstance(data, dict):
            raise UserError(f"{self.path}: expected a mapping of user names")
        return data

    def _refresh(self):
        """Adopt the file if another process rewrote it; a file that no longer parses is logged
        and ignored here (the last good users stay in force), and refused by the next change.

        Readers never wait for a change being saved: while one holds the lock this returns at once
        (that change adopts the file as it writes it), and the readers below take the mapping
        without the lock, since every change replaces it whole. The server authenticates on its
        event loop too (``octohost.server.wsgi``)."""
        if not self._file.changed() or not self._lock.acquire(blocking=False):
            return
        try:
            stamp = self._file.stamp()
            if not self._file.changed() or stamp == self._bad_stamp:
                return
            try:
                users = self._load()
            except UserError as exc:
                self._bad_stamp = stamp
                log.warning("keeping the users in memory: %s", exc)
                return
            self._users = users
            self._file.remember(stamp)
        finally:
            self._lock.release()

    @contextlib.contextmanager
    def _change(self):
        """Yield a copy of the users to change, made from the file as it is now (under the file's
        lock); it is saved and then adopted, or dropped on any error."""
        with self._lock, self._file.locked():
            if self._file.changed():
                stamp = self._file.stamp()
                self._users = self._load()
                self._file.remember(stamp)
            draft = copy.deepcopy(self._users)
            yield draft
            atomic_write(self.path, yaml.safe_dump(draft, default_flow_style=False, sort_keys=True), mode=0o600)
            self._file.remember(self._file.stamp())
            self._users = draft

    @staticmethod
    def _record(users, name):
        record = users.get(name)
        if record is None:
            raise UnknownUser(f"unknown user {name!r}")
        return record

    @staticmethod
    def _to_user(name, record):
        return User(name, record.get("groups", [USER_GROUP]), record.get("active", True),
                    record.get("apikey"), record.get("settings"), record.get("permissions", []))

    # -- queries -------------------------------------------------------------------------------

    def has_users(self):
        self._refresh()
        return bool(self._users)

    def has_admin(self):
        self._refresh()
        return any(ADMIN_GROUP in r.get("groups", []) for r in self._users.values())

    def list_users(self):
        self._refresh()
        return [self._to_user(n, r) for n, r in sorted(self._users.items())]

    def get_user(self, name):
        self._refresh()
        record = self._users.get(name)
        return self._to_user(name, record) if record is not None else None

    def check_password(self, name, password):
        """The user if name and password match an active user, else None.

        Takes the same time whether or not the user exists or is active: a password hash is
        verified either way, so the answer's timing does not tell which names exist."""
        self._refresh()
        record = self._users.get(name)
        stored = record.get("password") if record is not None else None
        if not isinstance(stored, str) or not stored:
            stored = _dummy_hash()
        matches = check_password_hash(stored, password if isinstance(password, str) else "")
        if not matches or record is None or not record.get("active", True) or not password:
            return None
        return self._to_user(name, record)

    def find_by_apikey(self, apikey):
        if not apikey:
            return None
        self._refresh()
        for name, record in self._users.items():
            key = record.get("apikey")
            if key and record.get("active", True) and same_secret(apikey, key):
                return self._to_user(name, record)
        return None

    # -- changes -------------------------------------------------------------------------------

    @staticmethod
    def _check_password_value(password):
        # Applies to new passwords only: an account made before keeps logging in with its old one.
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")

    def add_user(self, name, password, admin=False, groups=None, active=True):
        if not isinstance(name, str) or not USERNAME_RE.match(name):
            raise UserError(f"invalid user name {name!r}: use 1-64 letters, digits and _.@+-")
        self._check_password_value(password)
        password_hash = generate_password_hash(password)
        groups = list(groups) if groups else [USER_GROUP]
        if admin and ADMIN_GROUP not in groups:
            groups.insert(0, ADMIN_GROUP)
        with self._change() as users:
            if name in users:
                raise UserAlreadyExists(f"user {name!r} already exists")
            users[name] = {"password": password_hash, "groups": groups, "active": bool(active), "apikey": None,
                           "settings": {}}
        return self._to_user(name, users[name])

    def remove_user(self, name):
        with self._change() as users:
            self._record(users, name)
            del users[name]

    def change_password(self, name, password):
        self._check_password_value(password)
        password_hash = generate_password_hash(password)
        with self._change() as users:
            self._record(users, name)["password"] = password_hash

    def update_user(self, name, groups=None, active=None, settings=None):
        with self._change() as users:
            record = self._record(users, name)
            if groups is not None:
                record["groups"] = list(groups)
            if active is not None:
                record["active"] = bool(active)
            if settings is not None:
                record["settings"] = copy.deepcopy(dict(settings))
        return self._to_user(name, users[name])

    def generate_api_key(self, name):
        key = secrets.token_urlsafe(32)
        with self._change() as users:
            self._record(users, name)["apikey"] = key
        return key

    def get_or_create_api_key(self, name):
        with self._lock:
            key = self._record(self._users, name).get("apikey")
            return key or self.generate_api_key(name)

    def delete_api_key(self, name):
        with self._change() as users:
            self._record(users, name)["apikey"] = None
