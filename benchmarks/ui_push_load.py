"""How the web UI copes with a long stream of push messages, in headless Chromium.

Run: python benchmarks/ui_push_load.py [--messages 7200] [--log-lines 5]

Starts ``octohost serve --virtual`` in a temporary folder, logs the page in over the REST API and
replaces its push socket with one fed from here (Playwright's WebSocket routing): ``--messages``
``current`` messages, each with one temperature point per heater and ``--log-lines`` log lines,
sent as fast as the page takes them (7,200 is an hour at two a second), then ``--steady-seconds``
more at the real rate of two a second. Prints the page's main-thread time (script, layout, style)
per message for both, and what the page holds before and after: DOM nodes, terminal lines, graph
points and JS heap.
"""

import argparse
import os
import sys
import tempfile
import time

import requests
from playwright.sync_api import sync_playwright

TESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
sys.path[:0] = [os.path.join(TESTS, "ui"), TESTS]  # browser_harness, and the support package it uses

from browser_harness import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    FakePushSocket,
    ServerProcess,
    page_load_figures,
    printing_payload,
)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=7200)
    parser.add_argument("--log-lines", type=int, default=5)
    parser.add_argument("--steady-seconds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as basedir:
        server = ServerProcess(basedir).start()
        try:
            requests.post(server.url + "api/setup/admin", json={"user": "bench", "pass": "bench password"}, timeout=10)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=CHROMIUM_ARGS + ["--enable-precise-memory-info"])
                page = browser.new_page(viewport=DESKTOP)
                socket = FakePushSocket(page)
                page.goto(server.url)
                page.fill("#login-user", "bench")
                page.fill("#login-pass", "bench password")
                page.click("#login-form button[type=submit]")
                page.wait_for_selector("#app", state="visible")
                while not socket.authenticated:
                    page.wait_for_timeout(50)
                client = page.context.new_cdp_session(page)
                client.send("Performance.enable")
                start = time.time() - args.messages * 0.5
                socket.send("history", printing_payload(0, start, log_lines=args.log_lines))
                page.wait_for_timeout(500)
                before = page_load_figures(page)
                script_before = _script_seconds(client)
                began = time.perf_counter()
                for index in range(1, args.messages):
                    socket.send("current", printing_payload(index, start, log_lines=args.log_lines))
                page.evaluate("() => new Promise(resolve => requestAnimationFrame(() => resolve()))")
                wall = time.perf_counter() - began
                script = _script_seconds(client) - script_before
                client.send("HeapProfiler.collectGarbage")
                after = page_load_figures(page)
                steady_before = _script_seconds(client)
                steady_began = time.perf_counter()
                steady = args.steady_seconds * 2
                for index in range(args.messages, args.messages + steady):
                    socket.send("current", printing_payload(index, start, log_lines=args.log_lines))
                    page.wait_for_timeout(500)
                steady_wall = time.perf_counter() - steady_began
                steady_script = _script_seconds(client) - steady_before
                browser.close()
        finally:
            server.stop()
    count = args.messages - 1
    print(f"messages: {count} ({args.log_lines} log lines and 2 temperatures each)")
    print(f"wall time: {wall:.2f} s ({count / wall:.0f} messages/s delivered)")
    print(f"page script + layout time: {script:.2f} s ({script / count * 1000:.2f} ms per message, "
          "redraws coalesced per frame)")
    for name in ("domNodes", "terminalLines", "graphPoints", "heapBytes"):
        print(f"{name}: {before[name]} -> {after[name]} (after garbage collection)")
    print(f"steady state, full buffers, graph tab shown: {steady} messages at 2/s over {steady_wall:.0f} s: "
          f"{steady_script / steady * 1000:.2f} ms page time per message "
          f"({steady_script / steady_wall * 100:.2f}% of one core)")


def _script_seconds(client):
    metrics = {m["name"]: m["value"] for m in client.send("Performance.getMetrics")["metrics"]}
    return metrics.get("ScriptDuration", 0) + metrics.get("LayoutDuration", 0) + metrics.get("RecalcStyleDuration", 0)


if __name__ == "__main__":
    main()
