"""What the G-code tab costs on a big file, in headless Chromium.

Run: python benchmarks/gcode_viewer.py [--megabytes 20]

Writes a synthetic sliced-looking file of about ``--megabytes`` MB (layers of 0.2 mm, short
extruding G1 moves with feed rates, travels and comments), uploads it to ``octohost serve
--virtual``, selects it, opens the G-code tab and reports the time until its layers are read, the
JS heap before and after (garbage collected), and the time to draw one layer.
"""

import argparse
import os
import sys
import tempfile
import time

import requests
from playwright.sync_api import sync_playwright

TESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
sys.path[:0] = [os.path.join(TESTS, "ui"), TESTS]

from browser_harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, ServerProcess  # noqa: E402


def write_gcode(path, megabytes):
    target = megabytes * 1024 * 1024
    e = 0.0
    layer = 0
    with open(path, "w") as f:
        f.write("; synthetic benchmark file\nG90\nM82\nG92 E0\n")
        while f.tell() < target:
            layer += 1
            f.write(f";LAYER:{layer}\nG1 Z{0.2 * layer:.2f} F600\nG0 X20 Y20 F9000\n")
            for i in range(1500):
                e += 0.0123
                x = 20 + (i * 7 % 180) + (i % 3) * 0.137
                y = 20 + (i * 13 % 180) + (i % 5) * 0.071
                f.write(f"G1 X{x:.3f} Y{y:.3f} E{e:.5f} F1800\n")
    return os.path.getsize(path), layer


def heap(page, client):
    client.send("HeapProfiler.collectGarbage")
    return page.evaluate("() => performance.memory.usedJSHeapSize")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as basedir:
        gcode = os.path.join(basedir, "big.gcode")
        size, layers = write_gcode(gcode, args.megabytes)
        server = ServerProcess(os.path.join(basedir, "server")).start()
        try:
            requests.post(server.url + "api/setup/admin", json={"user": "bench", "pass": "bench password"}, timeout=10)
            admin = requests.Session()
            admin.post(server.url + "api/login", json={"user": "bench", "pass": "bench password"}, timeout=10)
            admin.headers["X-CSRF-Token"] = next(c.value for c in admin.cookies if c.name.startswith("csrf_token_P"))
            with open(gcode, "rb") as f:
                admin.post(server.url + "api/files/local", files={"file": ("big.gcode", f)},
                           data={"select": "true"}, timeout=120)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=CHROMIUM_ARGS + ["--enable-precise-memory-info"])
                page = browser.new_page(viewport=DESKTOP)
                page.set_default_timeout(300_000)
                page.goto(server.url)
                page.fill("#login-user", "bench")
                page.fill("#login-pass", "bench password")
                page.click("#login-form button[type=submit]")
                page.wait_for_function("() => document.querySelector('#job-file').textContent === 'big.gcode'")
                client = page.context.new_cdp_session(page)
                before = heap(page, client)
                began = time.perf_counter()
                page.click("#tab-gcode")
                page.wait_for_function("() => Number(document.querySelector('#gcode-canvas').dataset.layers) > 0")
                read = time.perf_counter() - began
                after = heap(page, client)
                page.uncheck("#gcode-follow")
                draw = page.evaluate("""() => {
                    const slider = document.querySelector('#gcode-layer');
                    slider.value = String(Math.floor(Number(slider.max) / 2));
                    const t = performance.now();
                    slider.dispatchEvent(new Event('input'));
                    return performance.now() - t;
                }""")
                status = page.inner_text("#gcode-status")
                browser.close()
        finally:
            server.stop()
    print(f"file: {size / 1048576:.1f} MB, {layers} layers")
    print(f"viewer: {status}")
    print(f"time to layers (download over loopback + parse): {read:.2f} s")
    print(f"JS heap: {before / 1048576:.1f} -> {after / 1048576:.1f} MB (+{(after - before) / 1048576:.1f} MB)")
    print(f"drawing one layer: {draw:.1f} ms")


if __name__ == "__main__":
    main()
