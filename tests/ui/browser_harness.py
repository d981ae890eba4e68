"""Helpers of the UI tests: a real ``octohost serve --virtual`` subprocess, console watching, screenshots."""

import base64
import contextlib
import json
import os
import re
import signal
import struct
import subprocess
import sys
import zlib

import requests
import yaml

from support import WaitTimeout, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCREENSHOTS = os.path.join(ROOT, "test-output", "screenshots")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ADMIN, PASSWORD = "admin", "correct horse battery"
WAIT = 30_000

#: what a browser logs by itself while the server is away (restart test only)
OFFLINE_NOISE = (r"ERR_CONNECTION_REFUSED", r"WebSocket connection to .* failed", r"ERR_EMPTY_RESPONSE",
                 r"ERR_CONNECTION_RESET")


class ServerProcess:
    """``octohost serve`` on 127.0.0.1 and a free port, with its base folder under tmp_path."""

    def __init__(self, basedir, config=None):
        self.basedir = str(basedir)
        self.config = config or {}
        self.process = None
        self.url = None
        self.log_path = os.path.join(self.basedir, "serve.out")

    def start(self, port=0, timeout=30):
        os.makedirs(self.basedir, exist_ok=True)
        config_path = os.path.join(self.basedir, "config.yaml")
        if not os.path.exists(config_path):  # a restart keeps what the UI saved
            with open(config_path, "w", encoding="utf-8") as f:
                yaml.safe_dump(self.config, f)
        offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "octohost", "--basedir", self.basedir, "serve", "--host", "127.0.0.1",
             "--port", str(port), "--virtual"],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        log.close()

        def listening():
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                f.seek(offset)
                match = re.search(r"Listening on http://127\.0\.0\.1:(\d+)", f.read())
            if match is None and self.process.poll() is not None:
                raise RuntimeError(f"octohost serve exited with {self.process.returncode}:\n{self.output()}")
            return match

        try:
            match = wait_until(listening, timeout=timeout, interval=0.1, message="octohost serve to listen")
        except WaitTimeout:
            self.stop()
            raise RuntimeError(f"octohost serve did not start:\n{self.output()}") from None
        self.url = f"http://127.0.0.1:{match.group(1)}/"
        return self

    @property
    def port(self):
        return int(self.url.rstrip("/").rsplit(":", 1)[1])

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def restart(self):
        """Stop and start again on the same port (the UI must reconnect by itself)."""
        port = self.port
        self.stop()
        # the port can stay taken for a moment after the old process is gone: try again until it is free
        return wait_until(lambda: self.start(port=port), timeout=15, interval=0.2, ignore=(RuntimeError,),
                          message=f"octohost serve to start again on port {port}")

    def output(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()[-5000:]
        except OSError:
            return ""


class ConsoleWatch:
    """Collects console errors and uncaught exceptions of a page."""

    def __init__(self, page, allowed=()):
        self.problems = []
        self.allowed = [re.compile(pattern) for pattern in allowed]
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))

    def _console(self, message):
        entry = f"{message.text} at {message.location.get('url')}"
        if message.type == "error" and not any(p.search(entry) for p in self.allowed):
            self.problems.append(f"console: {entry}")

    @contextlib.contextmanager
    def expecting(self, *patterns):
        """Errors the test itself provokes (a wrong password's 403) are not problems."""
        before = self.allowed
        self.allowed = before + [re.compile(p) for p in patterns]
        try:
            yield
        finally:
            self.allowed = before


@contextlib.contextmanager
def logged_in_page(browser, url, user, password, viewport=None, timeout=30_000):
    """A desktop page logged in to the UI at ``url``; on leaving, no console error may have been seen."""
    with watched_login(browser, url, user, password, viewport, timeout) as (page, _watch):
        yield page


@contextlib.contextmanager
def watched_login(browser, url, user, password, viewport=None, timeout=30_000):
    """``logged_in_page`` with its ConsoleWatch too, for a test that provokes console errors itself
    (a restart) and declares them with ``watch.expecting``."""
    context = browser.new_context(viewport=viewport or DESKTOP)
    page = context.new_page()
    page.set_default_timeout(timeout)
    watch = ConsoleWatch(page)
    page.goto(url)
    page.wait_for_selector("#login-form:visible")
    page.fill("#login-user", user)
    page.fill("#login-pass", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#app", state="visible")
    try:
        yield page, watch
    finally:
        context.close()
    assert watch.problems == [], "\n".join(watch.problems)


def screenshot(page, name, element=None):
    """The viewport (the header is sticky, so full-page shots would show it mid-page)."""
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, f"{name}.png")
    page.evaluate("() => { document.querySelector('#toast').hidden = true; }")
    if element:
        page.eval_on_selector(element, "e => e.scrollIntoView({block: 'start'})")
    else:
        page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=path)
    return path


class FakePushSocket:
    """Stands in for the server's push socket (Playwright routes the page's WebSocket here).

    The page still logs in over the real REST API; only the push messages come from the test,
    so it can replay an hour of printing in seconds.
    """

    def __init__(self, page):
        self.route = None
        self.authenticated = False
        page.route_web_socket(re.compile(r".*/sockjs/websocket$"), self._accept)

    def _accept(self, route):
        self.route = route
        route.on_message(self._on_message)
        route.send(json.dumps({"connected": {"version": "test", "display_version": "test", "safe_mode": False}}))

    def _on_message(self, text):
        if "auth" in json.loads(text):
            self.authenticated = True

    def send(self, message_type, payload):
        self.route.send(json.dumps({message_type: payload}, separators=(",", ":")))


def operational_state():
    flags = {"operational": True, "printing": True, "cancelling": False, "pausing": False, "resuming": False,
             "finishing": False, "closedOrError": False, "error": False, "paused": False, "ready": False,
             "sdReady": False}
    return {"text": "Printing", "flags": flags, "error": None}


def printing_payload(index, start, interval=0.5, log_lines=5):
    """The ``index``-th ``current`` message of a print: progress, one temperature point, log lines."""
    now = start + index * interval
    temps = [{"time": now, "tool0": {"actual": 200 + index % 10, "target": 210},
              "bed": {"actual": 59.5 + (index % 3) / 2, "target": 60}}]
    logs = [f"Send: N{index * log_lines + i} G1 X{i} Y{index % 100} E{index}.{i}*42" for i in range(log_lines - 1)]
    logs.append(f"Recv: ok T:{200 + index % 10}.0 /210.0 B:60.0 /60.0")
    return {"state": operational_state(),
            "job": {"file": {"name": "load.gcode", "path": "load.gcode", "display": "load.gcode", "origin": "local",
                             "size": 1000000}, "estimatedPrintTime": 7200, "filament": None},
            "progress": {"completion": index / 100.0 % 100, "filepos": index * 100, "printTime": int(index * interval),
                         "printTimeLeft": 7200 - int(index * interval), "printTimeLeftOrigin": "estimate"},
            "currentZ": 0.2, "offsets": {}, "temps": temps, "logs": logs, "messages": [], "serverTime": now}


def page_load_figures(page):
    """What the page holds after a long run: DOM nodes, terminal lines, graph points, JS heap."""
    return page.evaluate("""() => ({
        domNodes: document.getElementsByTagName("*").length,
        terminalLines: document.querySelectorAll("#terminal-output .line").length,
        graphPoints: Number(document.querySelector("#temp-graph").dataset.points || 0),
        heapBytes: performance.memory ? performance.memory.usedJSHeapSize : null,
    })""")


def gcode_with_thumbnail(width=24, height=16):
    """G-code with a PNG thumbnail block as PrusaSlicer writes it (PNG built by hand, one colour)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes((30, 120, 200)) * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    encoded = base64.b64encode(png).decode()
    lines = [f"; thumbnail begin {width}x{height} {len(encoded)}"]
    lines += [f"; {encoded[i:i + 78]}" for i in range(0, len(encoded), 78)]
    lines += ["; thumbnail end", "", "G28", "G1 X10 Y10 F3000", "M84"]
    return "\n".join(lines) + "\n"


def connection_state(admin, octohost):
    return admin.get(octohost.url + "api/connection", timeout=10).json()["current"]["state"]


def ensure_operational(page, admin, octohost):
    """Connect the virtual printer if it is not, cancel a print an earlier test left running."""
    state = connection_state(admin, octohost)
    if state.startswith(("Offline", "Closed", "Error")):
        connect = admin.post(octohost.url + "api/connection", json={"command": "connect", "port": "VIRTUAL"},
                             timeout=10)
        assert connect.status_code == 204, connect.text
    elif state in ("Starting", "Printing", "Pausing", "Paused", "Resuming"):
        cancel = admin.post(octohost.url + "api/job", json={"command": "cancel"}, timeout=10)
        assert cancel.status_code in (204, 409), cancel.text  # 409: it ended meanwhile
    wait_until(lambda: connection_state(admin, octohost) == "Operational",
               message=lambda: f"an operational printer; it is {connection_state(admin, octohost)!r}")
    page.wait_for_function("() => document.querySelector('#header-state').textContent === 'Operational'")


def start_print(page, admin, octohost):
    started = admin.post(octohost.url + "api/files/local/calibration_cube.gcode",
                         json={"command": "select", "print": True}, timeout=10)
    assert started.status_code == 204, started.text
    page.wait_for_function("() => document.querySelector('#header-state').textContent.startsWith('Printing')")


def api_get(page, path):
    """Read the API with the page's own session, to check what the UI changed."""
    return page.evaluate("async (path) => (await fetch(path, {credentials: 'same-origin'})).json()", path)


def admin_session(octohost):
    """A second, scripted admin session (cookie and CSRF header) beside the page's own."""
    admin = requests.Session()
    assert admin.post(octohost.url + "api/login", json={"user": ADMIN, "pass": PASSWORD}, timeout=10).ok
    admin.headers["X-CSRF-Token"] = next(c.value for c in admin.cookies if c.name.startswith("csrf_token_P"))
    return admin


def open_tab(page, name):
    page.click(f"#tab-{name}")
    page.wait_for_selector(f"#view-{name}", state="visible")


def open_settings(page, section):
    open_tab(page, "settings")
    page.click(f'.settings-nav button[data-section="{section}"]')
    page.wait_for_selector(f"#settings-{section}", state="visible")


def header_state(page):
    return page.inner_text("#header-state")


def progress(page):
    return float(page.inner_text("#job-progress-text").rstrip("%"))
