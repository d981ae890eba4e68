"""What the web UI costs to open: page weight, request count and time to visible, in headless Chromium.

Run: python benchmarks/ui_page_load.py [--rounds 5] [--viewport desktop|phone]

Starts ``octohost serve --virtual`` in a temporary folder with one admin, logs a browser context in
over the REST API (so the session cookie is there), then opens the page ``--rounds`` times with a cold
cache and reports the median of: bytes transferred (bodies as received, compressed if the server
compressed them), the number of requests (the push socket included), the requests made more than once,
and the time from navigation to the logged-in app showing the printer state.
"""

import argparse
import collections
import os
import statistics
import sys
import tempfile
import time

import requests
from playwright.sync_api import sync_playwright

TESTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")
sys.path[:0] = [os.path.join(TESTS, "ui"), TESTS]  # browser_harness, and the support package it uses

from browser_harness import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, ServerProcess  # noqa: E402


def one_round(browser, url, viewport):
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    assert page.request.post(url + "api/login", data={"user": "bench", "pass": "bench password"}).ok
    client = context.new_cdp_session(page)
    client.send("Network.enable")
    client.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes = {}
    urls = []
    client.on("Network.requestWillBeSent", lambda e: urls.append(e["request"]["url"]))
    client.on("Network.webSocketCreated", lambda e: urls.append(e["url"]))
    client.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    began = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("#app", state="visible")
    page.wait_for_function("() => document.querySelector('#header-state').textContent !== ''"
                           " && !document.querySelector('.state').hidden")
    visible = time.perf_counter() - began
    page.wait_for_load_state("networkidle")
    weight = sum(sizes.values())
    twice = sorted(u.replace(url, "/") for u, n in collections.Counter(urls).items() if n > 1)
    context.close()
    return {"bytes": weight, "requests": len(urls), "visible": visible, "twice": twice,
            "urls": urls}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--viewport", choices=("desktop", "phone"), default="desktop")
    parser.add_argument("--list", action="store_true", help="print the URLs of the last round")
    args = parser.parse_args()
    viewport = DESKTOP if args.viewport == "desktop" else PHONE
    with tempfile.TemporaryDirectory() as basedir:
        server = ServerProcess(basedir).start()
        try:
            requests.post(server.url + "api/setup/admin", json={"user": "bench", "pass": "bench password"}, timeout=10)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                rounds = [one_round(browser, server.url, viewport) for _ in range(args.rounds)]
                browser.close()
        finally:
            server.stop()
    print(f"viewport: {viewport['width']}x{viewport['height']}, {args.rounds} rounds, cold cache, logged in")
    print(f"page weight: {statistics.median(r['bytes'] for r in rounds) / 1024:.1f} KB transferred")
    print(f"requests: {statistics.median(r['requests'] for r in rounds):.0f}")
    print(f"time to visible: {statistics.median(r['visible'] for r in rounds):.3f} s (median)")
    print(f"requested more than once: {', '.join(rounds[-1]['twice']) or 'none'}")
    if args.list:
        print("\n".join(rounds[-1]["urls"]))


if __name__ == "__main__":
    main()
