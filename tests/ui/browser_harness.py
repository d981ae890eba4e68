"""Helpers of the UI tests: a real ``octohost serve --virtual`` subprocess, console watching, screenshots."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCREENSHOTS = os.path.join(ROOT, "test-output", "screenshots")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


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
        with open(os.path.join(self.basedir, "config.yaml"), "w", encoding="utf-8") as f:
            yaml.safe_dump(self.config, f)
        offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "octohost", "--basedir", self.basedir, "serve", "--host", "127.0.0.1",
             "--port", str(port), "--virtual"],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                f.seek(offset)
                match = re.search(r"Listening on http://127\.0\.0\.1:(\d+)", f.read())
            if match:
                self.url = f"http://127.0.0.1:{match.group(1)}/"
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"octohost serve did not start:\n{self.output()}")

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
        for _ in range(50):
            try:
                return self.start(port=port)
            except RuntimeError:
                time.sleep(0.2)
        raise RuntimeError("could not restart on the same port")

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
