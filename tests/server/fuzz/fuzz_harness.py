"""The fuzzing target: a live server beside a sentinel folder, and the checks after each request.

Layout of the temp folder the server lives in::

    root/base/      the server's base folder (uploads/escape is a symlink to ../../sentinel)
    root/sentinel/  files nothing may create, change or remove

Checks: no 5xx; an answer within :data:`ANSWER_BOUND` seconds; nothing logged at ERROR or with
a traceback (log records with one, tornado's and asyncio's uncaught-exception errors, uncaught thread
exceptions, unraisable exceptions); nothing under
``root`` outside ``base`` created, changed or removed. :meth:`FuzzTarget.heal` restores, cheaply,
what the fixture needs so later examples stay meaningful (printer connected, the victim user and
sessions alive, the fixture files present).
"""

import contextlib
import http.client
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse

import requests
from fuzz_requests import header_value
from fuzz_values import expand

from octohost.server.app import Server
from octohost.settings import Settings

from support import wait_until

#: seconds a request may take (the slowest legitimate view, job restart, waits up to 10 s)
ANSWER_BOUND = 15
PASSWORD = "secret-pw"
GCODE = b"G28\nG1 X10 Y10 F6000\nG1 X20 Y20\nM117 done\n"
#: a binary STL header and no triangles: enough to be listed as a model
STL = b"\x00" * 80 + b"\x00\x00\x00\x00"


class FuzzFailure(AssertionError):
    """One broken promise, with the request that broke it."""


#: loggers whose errors are exceptions nobody caught (tornado's "Uncaught exception", asyncio's
#: "Task exception was never retrieved"); octohost's own errors without a traceback are reports
#: about the printer ("No printer answered"), not bugs
UNCAUGHT_LOGGERS = ("tornado.application", "asyncio")


class _Dropped(Exception):
    """The server closed the connection without answering."""


class LogCapture(logging.Handler):
    """Every record with a traceback or from :data:`UNCAUGHT_LOGGERS`, uncaught exceptions of
    threads and unraisable exceptions, for as long as it is installed."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.problems = []
        self._lock = threading.Lock()

    def emit(self, record):
        if record.exc_info or record.levelno >= logging.CRITICAL or "Traceback" in record.getMessage() or (
                record.levelno >= logging.ERROR and record.name in UNCAUGHT_LOGGERS):
            self._add(f"{record.levelname} {record.name}: {self.format(record)}")

    def _add(self, text):
        with self._lock:
            self.problems.append(text)

    def thread_hook(self, args):
        self._add(f"uncaught in thread {args.thread.name if args.thread else '?'}: " +
                  "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)))

    def unraisable_hook(self, unraisable):
        self._add(f"unraisable ({unraisable.err_msg}): " +
                  "".join(traceback.format_exception(unraisable.exc_type, unraisable.exc_value,
                                                     unraisable.exc_traceback)))

    def take(self):
        with self._lock:
            problems, self.problems = self.problems, []
        return problems

    def install(self):
        self.setFormatter(logging.Formatter("%(message)s"))
        root = logging.getLogger()
        root.addHandler(self)
        self._saved = (threading.excepthook, sys.unraisablehook)
        threading.excepthook, sys.unraisablehook = self.thread_hook, self.unraisable_hook

    def uninstall(self):
        logging.getLogger().removeHandler(self)
        threading.excepthook, sys.unraisablehook = self._saved


def snapshot(root, skip):
    """{relative path: (kind, size, mtime_ns)} of everything under ``root`` except ``skip``."""
    state = {}
    for folder, dirs, files in os.walk(root):
        if os.path.abspath(folder) == os.path.abspath(skip):
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if os.path.join(folder, d) != skip]
        for name in dirs + files:
            path = os.path.join(folder, name)
            if path == skip:
                continue
            st = os.lstat(path)
            state[os.path.relpath(path, root)] = ("dir" if name in dirs else "file", st.st_size, st.st_mtime_ns)
    return state


class FuzzTarget:
    """A running server prepared for fuzzing; see the module docstring."""

    def __init__(self, root, users_template):
        self.root = str(root)
        self.basedir = os.path.join(self.root, "base")
        self.sentinel = os.path.join(self.root, "sentinel")
        os.makedirs(os.path.join(self.sentinel, "sub"))
        for name in ("victim.txt", "sub/victim.txt", "victim.gcode"):
            with open(os.path.join(self.sentinel, name), "w") as f:
                f.write("must stay as it is\n")
        template, keys = users_template
        settings = Settings(self.basedir)
        settings.set("feature.sdSupport", True)
        shutil.copy(template, os.path.join(settings.basedir, "users.yaml"))
        self.uploads = settings.folder("uploads")
        os.symlink(self.sentinel, os.path.join(self.uploads, "escape"))
        self.logs = LogCapture()
        self.logs.install()
        self.server = Server(settings, host="127.0.0.1", port=0, connect_virtual=True)
        self.server.start_in_thread()
        self.context = self.server.context
        self.port = self.server.port
        self.url = f"http://127.0.0.1:{self.port}"
        self.keys = dict(keys)
        users = self.context.user_manager
        users.add_user("victim", PASSWORD)
        self.keys["victim"] = users.get_or_create_api_key("victim")
        self.session = self.csrf = None
        self.heal()
        self.baseline = snapshot(self.root, self.basedir)
        problems = self.logs.take()
        assert not problems, f"the fixture itself logged problems: {problems}"

    def close(self):
        try:
            self.server.stop()
        finally:
            self.logs.uninstall()
            # folders nested too deep for shutil.rmtree's recursion (pytest's clean-up) may be left
            subprocess.run(["rm", "-rf", self.root], check=False)

    # -- keeping the fixture meaningful ---------------------------------------------------------

    def heal(self):
        """Put back what earlier examples may have taken away (each step costs nothing when
        nothing is missing)."""
        c = self.context
        users = c.user_manager
        victim = users.get_user("victim")
        if victim is None:
            users.add_user("victim", PASSWORD)
        elif not victim.active or list(victim.groups) != ["users"]:
            users.update_user("victim", groups=["users"], active=True)
        for name in ("admin", "user", "viewer", "victim"):
            self.keys[name] = users.get_or_create_api_key(name)
        if self.session is None or c.sessions.get(self.session) is None:
            self._login()
        printer = c.printer
        if not printer.is_operational():
            printer.connect(port="VIRTUAL", baudrate=115200, profile="_default")
            wait_until(printer.is_operational, timeout=20, message="the virtual printer to connect")
        for path, data in (("fuzz.gcode", GCODE), ("model.stl", STL), ("folder/inner.gcode", GCODE)):
            if not self._exists(path) and not (printer.is_printing() or printer.is_paused()):
                self._upload(path, data)
        if not os.path.islink(os.path.join(self.uploads, "escape")):
            if os.path.lexists(os.path.join(self.uploads, "escape")):
                shutil.rmtree(os.path.join(self.uploads, "escape"), ignore_errors=True)
            os.symlink(self.sentinel, os.path.join(self.uploads, "escape"))

    def _exists(self, path):
        try:
            return self.context.file_manager.get_file(path) is not None
        except Exception:
            return False

    def _upload(self, path, data):
        folder, _, name = path.rpartition("/")
        response = requests.post(self.url + "/api/files/local", headers={"X-Api-Key": self.keys["admin"]},
                                 files={"file": (name, data)}, data={"path": folder}, timeout=ANSWER_BOUND)
        assert response.status_code == 201, (path, response.status_code, response.text)

    def _login(self):
        response = requests.post(self.url + "/api/login", json={"user": "admin", "pass": PASSWORD},
                                 timeout=ANSWER_BOUND)
        assert response.status_code == 200, response.text
        self.session = response.cookies[f"session_P{self.port}"]
        self.csrf = response.cookies[f"csrf_token_P{self.port}"]

    # -- one request ----------------------------------------------------------------------------

    def wire(self, spec):
        """(method, target, headers, body) of a drawn request, with this server's credentials."""
        query = list(spec.query)
        headers = [(name, value) for name, value in spec.headers]
        identity = spec.identity
        if identity in self.keys:
            key = self.keys[identity]
            if spec.key_via == "query":
                query.append(("apikey", key))
            elif spec.key_via == "bearer":
                headers.append(("Authorization", f"Bearer {key}".encode()))
            else:
                headers.append(("X-Api-Key", key.encode()))
        elif identity == "badkey":
            if spec.key_via == "query":
                query.append(("apikey", spec.bad_key))
            else:
                name = "Authorization" if spec.key_via == "bearer" else "X-Api-Key"
                prefix = "Bearer " if spec.key_via == "bearer" else ""
                headers.append((name, header_value(prefix + spec.bad_key)))
        elif identity.startswith("session") or identity == "badcookie":
            session, csrf = self.session, self.csrf
            if identity == "badcookie":
                session = csrf = spec.bad_key.replace(";", "")
            headers.append(("Cookie", header_value(f"session_P{self.port}={session}; csrf_token_P{self.port}={csrf}")))
            if identity in ("session", "badcookie"):
                headers.append(("X-CSRF-Token", header_value(csrf)))
            elif identity == "session_badcsrf":
                headers.append(("X-CSRF-Token", b"not-the-token"))
        target = spec.path
        if query:
            target += "?" + urllib.parse.urlencode(
                [(k, expand(v, self.sentinel) if isinstance(v, str) else v) for k, v in query],
                encoding="utf-8", errors="surrogatepass")
        body = spec.body
        if body is not None:
            body = expand(body.decode("utf-8", errors="surrogateescape"), self.sentinel).encode(
                "utf-8", errors="surrogateescape")
        target = expand(target, urllib.parse.quote(self.sentinel))
        if not any(name.lower() == "host" for name, _ in headers):
            headers.append(("Host", f"127.0.0.1:{self.port}".encode()))
        if spec.content_type is not None:
            headers.append(("Content-Type", spec.content_type.encode("utf-8")))
        return spec.method, target, headers, body

    def send(self, spec, describe):
        """Send one drawn request and check the answer; returns the status. A connection dropped
        without an answer is tried once more: a server that answers early and closes can race a
        client still sending (seen once in hundreds of runs, never reproduced); a real drop repeats."""
        try:
            return self._send_once(spec, describe)
        except _Dropped:
            try:
                return self._send_once(spec, describe)
            except _Dropped as exc:
                raise FuzzFailure(str(exc)) from None

    def _send_once(self, spec, describe):
        method, target, headers, body = self.wire(spec)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=ANSWER_BOUND)
        started = time.monotonic()
        try:
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
        except TimeoutError:
            raise FuzzFailure(f"no answer within {ANSWER_BOUND} s: {describe(spec)}") from None
        except (http.client.RemoteDisconnected, ConnectionResetError) as exc:
            raise _Dropped(f"connection closed without an answer ({exc}): {describe(spec)}") from None
        finally:
            connection.close()
        elapsed = time.monotonic() - started
        if response.status >= 500:
            logged = "\n".join(p[-3000:] for p in self.logs.take())
            raise FuzzFailure(f"answered {response.status} {data[:300]!r} to {describe(spec)}\nlogged:\n{logged}")
        self.check_quiet(lambda: describe(spec))
        assert elapsed < ANSWER_BOUND
        return response.status

    @contextlib.contextmanager
    def failing_with_logs(self):
        """A FuzzFailure raised inside also carries what was logged meanwhile (a server that closed a
        socket on an exception logged why), so the log does not surface in the next example."""
        try:
            yield
        except FuzzFailure as exc:
            logged = "\n".join(p[-3000:] for p in self.logs.take())
            raise FuzzFailure(f"{exc}\nlogged:\n{logged}" if logged else str(exc)) from None

    def check_quiet(self, what):
        """No logged problems and no file touched outside the base folder since the last check."""
        problems = self.logs.take()
        if problems:
            raise FuzzFailure("logged while handling " + what() + ":\n" + "\n".join(p[-3000:] for p in problems))
        now = snapshot(self.root, self.basedir)
        if now != self.baseline:
            changed = sorted(set(now.items()) ^ set(self.baseline.items()))
            self.baseline = now
            raise FuzzFailure(f"files outside the base folder changed: {changed} after {what()}")
