"""Refresh docs/screenshots/: every view on a desktop and a phone, light and dark, mid-print.

Run: PYTHONPATH=$PWD python3 tests/ui/screenshots.py [--out docs/screenshots]

Starts ``octohost serve --virtual`` in a temporary folder, makes an admin, uploads a file with a
slicer thumbnail and a short print, connects and prints it, then shoots each view in headless
Chromium with the system colour scheme set to light and to dark. The names are
``VIEW-VIEWPORT-THEME.png``.
"""

import argparse
import os
import sys
import tempfile

import requests
from playwright.sync_api import sync_playwright

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]  # browser_harness, and the support package it uses

from browser_harness import (  # noqa: E402
    ADMIN,
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    PASSWORD,
    PHONE,
    ROOT,
    ServerProcess,
    admin_session,
    gcode_with_thumbnail,
)

from support import wait_until  # noqa: E402

VIEWS = ("temperature", "control", "terminal", "history", "gcode", "settings")


def prepare(server):
    requests.post(server.url + "api/setup/admin", json={"user": ADMIN, "pass": PASSWORD}, timeout=10)
    admin = admin_session(server)
    moves = []
    for i in range(2000):  # 20 layers of a zig-zag growing with the layer
        if i % 100 == 0:
            moves.append(f"G1 Z{0.2 * (i // 100 + 1):.1f}")
        side = 20 + (i // 100) * 2
        moves.append(f"G1 X{60 + (side if i % 2 else 0)} Y{60 + (i % 100) * side / 100:.1f} E{i / 10:.1f}\nG4 P200")
    body = gcode_with_thumbnail() + "\n".join(moves) + "\n"
    admin.post(server.url + "api/files/local", files={"file": ("calibration_cube.gcode", body)}, timeout=30)
    admin.post(server.url + "api/connection", json={"command": "connect", "port": "VIRTUAL"}, timeout=10)
    wait_until(lambda: admin.get(server.url + "api/connection", timeout=10).json()["current"]["state"]
               == "Operational", message="the virtual printer to connect")
    admin.post(server.url + "api/printer/tool", json={"command": "target", "targets": {"tool0": 210}}, timeout=10)
    admin.post(server.url + "api/files/local/calibration_cube.gcode", json={"command": "select", "print": True},
               timeout=10)
    return admin


def shoot(browser, server, out, viewport, size_name, theme):
    context = browser.new_context(viewport=viewport, color_scheme=theme)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.url)
    page.fill("#login-user", ADMIN)
    page.fill("#login-pass", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#app", state="visible")
    page.wait_for_function("() => document.querySelector('#header-state').textContent.startsWith('Printing')")
    page.wait_for_function("() => Number(document.querySelector('#temp-graph').dataset.points) > 4")
    paths = []
    for view in VIEWS:
        page.click(f"#tab-{view}")
        page.wait_for_selector(f"#view-{view}", state="visible")
        page.evaluate("() => { document.querySelector('#toast').hidden = true; window.scrollTo(0, 0); }")
        page.wait_for_function("() => document.getAnimations().every(a => a.playState !== 'running'"
                               " || a.effect.getComputedTiming().iterations === Infinity)")
        path = os.path.join(out, f"{view}-{size_name}-{theme}.png")
        page.screenshot(path=path, full_page=size_name == "phone")
        paths.append(path)
    context.close()
    return paths


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "screenshots"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as basedir:
        server = ServerProcess(basedir).start()
        try:
            prepare(server)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                for size_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                    for theme in ("light", "dark"):
                        for path in shoot(browser, server, args.out, viewport, size_name, theme):
                            print(os.path.relpath(path, ROOT))
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
