"""The Timelapse tab in headless Chromium: a recording waiting to be rendered, rendering it with the
progress shown, playing and downloading the video, and the configuration for the next prints."""

import os

import pytest
import requests
from browser_harness import ServerProcess, logged_in_page, screenshot

from support.camera import TestCamera

pytestmark = pytest.mark.e2e

ADMIN, PASSWORD = "admin", "timelapse pw"
WAIT = 30_000


@pytest.fixture(scope="module")
def server(tmp_path_factory, camera_frames):
    camera = TestCamera(camera_frames)
    process = ServerProcess(tmp_path_factory.mktemp("octohost-tl-ui"), config={
        "webcam": {"snapshot": camera.snapshot_url, "stream": camera.stream_url}}).start()
    answer = requests.post(process.url + "api/setup/admin", json={"user": ADMIN, "pass": PASSWORD}, timeout=10)
    assert answer.status_code == 201, answer.text
    yield process
    process.stop()
    camera.close()


@pytest.fixture
def page(server, browser):
    with logged_in_page(browser, server.url, ADMIN, PASSWORD, timeout=WAIT) as page:
        yield page


def api_get(page, path):
    return page.evaluate("async (path) => (await fetch(path, {credentials: 'same-origin'})).json()", path)


def test_render_play_and_download_a_timelapse(server, page, camera_frames):
    captures = os.path.join(server.basedir, "timelapse", "tmp")
    os.makedirs(captures, exist_ok=True)
    for number, data in enumerate(camera_frames * 3):  # 36 frames: a render long enough to show progress
        with open(os.path.join(captures, f"benchy_20261205120000-{number}.jpg"), "wb") as f:
            f.write(data)
    page.click("#tab-timelapse")
    page.wait_for_selector("#view-timelapse", state="visible")
    row = page.wait_for_selector("#timelapse-unrendered-rows tr:has-text('benchy_20261205120000')")
    assert "36" in row.inner_text()
    row.query_selector("button:has-text('Render')").click()
    page.wait_for_selector("#timelapse-rendering", state="visible")
    page.wait_for_function("() => document.querySelector('#toast').textContent.includes('is ready')")
    page.wait_for_selector("#timelapse-rendering", state="hidden")
    assert page.get_attribute("#timelapse-progressbar", "aria-valuenow") == "100"
    video_row = page.wait_for_selector("#timelapse-rows tr:has-text('benchy_20261205120000.mp4')")
    assert video_row.query_selector("img.timelapse-thumb") is not None
    assert page.is_hidden("#timelapse-unrendered-box")

    download = video_row.query_selector("a:has-text('Download')")
    assert download.get_attribute("href") == "/downloads/timelapse/benchy_20261205120000.mp4"
    status = page.evaluate("async (url) => (await fetch(url, {credentials: 'same-origin'})).status",
                           download.get_attribute("href"))
    assert status == 200

    video_row.query_selector("button:has-text('Play')").click()
    page.wait_for_selector("#timelapse-player", state="visible")
    assert page.get_attribute("#timelapse-video", "src").endswith("benchy_20261205120000.mp4")
    # the browser fetched the video's header and knows its length (36 frames at 25 fps)
    duration = page.wait_for_function("() => { const v = document.querySelector('#timelapse-video');"
                                      " return v.readyState >= 1 && v.duration; }").json_value()
    assert duration == pytest.approx(36 / 25, abs=0.1)
    screenshot(page, "timelapse-desktop")


def test_configure_the_next_prints(server, page):
    page.click("#tab-timelapse")
    page.wait_for_selector("#timelapse-config", state="visible")
    assert page.is_hidden("#timelapse-interval")
    page.select_option("#timelapse-type", "timed")
    page.wait_for_selector("#timelapse-interval", state="visible")
    assert page.is_hidden("#timelapse-zhop")
    page.fill("#timelapse-interval", "7")
    page.fill("#timelapse-postroll", "2")
    page.click("#timelapse-config button[type=submit]")
    page.wait_for_function("() => document.querySelector('#toast').textContent === 'Timelapse settings applied'")
    listing = api_get(page, "/api/timelapse")
    assert listing["config"] == {"type": "timed", "interval": 7, "postRoll": 2, "fps": 25,
                                 "renderAfterPrint": "always"}
    settings = api_get(page, "/api/settings")["webcam"]["timelapse"]
    assert settings["type"] == "timed" and settings["options"]["interval"] == 7  # kept as the default
