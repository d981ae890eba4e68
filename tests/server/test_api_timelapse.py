"""``/api/timelapse``, the snapshot proxy and the ``webcam`` settings in OctoPrint's shape, and what
Home Assistant's pyoctoprintapi reads from them."""

import asyncio
import os
import types

import pytest

from octohost.timelapse.storage import THUMBNAIL_SUFFIX

from support import wait_until

#: the keys OctoPrint 1.11.8's GET /api/settings has in ``webcam`` (octoprint/server/api/settings.py)
OCTOPRINT_WEBCAM_KEYS = {
    "webcamEnabled", "timelapseEnabled", "ffmpegPath", "ffmpegCommandline", "bitrate", "ffmpegThreads",
    "ffmpegVideoCodec", "watermark", "renderAfterPrintDelay", "webcams", "defaultWebcam", "snapshotWebcam",
    "streamUrl", "streamRatio", "streamTimeout", "streamWebrtcIceServers", "snapshotUrl", "snapshotTimeout",
    "snapshotSslValidation", "cacheBuster", "flipH", "flipV", "rotate90"}
WEBCAM_MODEL_KEYS = {"name", "displayName", "canSnapshot", "snapshotDisplay", "flipH", "flipV", "rotate90", "extras",
                     "compat", "provider"}


def delete(running, path, role="admin"):
    with running.client(role) as session:
        return session.delete(running.url + path, timeout=30)


@pytest.fixture
def with_camera(start_server, camera):
    extensions = types.SimpleNamespace(__plugin_name__="gif timelapses", __plugin_hooks__={
        "octoprint.timelapse.extensions": lambda *args, **kwargs: ["gif"]})
    return start_server(settings_values={"webcam.snapshot": camera.snapshot_url, "webcam.stream": camera.stream_url},
                        plugins={"gifs": extensions})


def test_without_a_camera_the_timelapse_is_off(running):
    listing = running.get("/api/timelapse", role="viewer")
    assert listing.status_code == 200
    assert listing.json() == {"config": {"type": "off"}, "enabled": True, "files": []}
    running.context.settings.set("webcam.timelapse.type", "zchange")
    assert running.get("/api/timelapse").json()["config"] == {"type": "off"}  # no camera can take snapshots


def test_listing_videos_thumbnails_and_extensions_from_the_hook(with_camera):
    running = with_camera
    videos = running.context.timelapse.storage.videos
    for name in ("a_1.mp4", "b_2.gif", "notes.txt", ".hidden.mp4"):
        with open(os.path.join(videos, name), "wb") as f:
            f.write(b"x" * 10)
    with open(os.path.join(videos, "a_1.mp4" + THUMBNAIL_SUFFIX), "wb") as f:
        f.write(b"jpeg")
    files = {entry["name"]: entry for entry in running.get("/api/timelapse", role="viewer").json()["files"]}
    assert set(files) == {"a_1.mp4", "b_2.gif"}
    assert files["a_1.mp4"]["thumbnail"] == "/downloads/timelapse/a_1.mp4.thumb.jpg"
    assert "thumbnail" not in files["b_2.gif"]
    assert files["a_1.mp4"]["bytes"] == 10 and files["a_1.mp4"]["size"] == "10.0B"
    with running.client("viewer") as session:
        assert session.get(running.url + "/downloads/timelapse/notes.txt", timeout=30).status_code == 404
        assert session.get(running.url + "/downloads/timelapse/..%2Fconfig.yaml", timeout=30).status_code == 404
        assert session.get(running.url + "/api/timelapse/missing.mp4", timeout=30).status_code == 404
    with running.client() as anonymous:
        assert anonymous.get(running.url + "/downloads/timelapse/a_1.mp4", timeout=30).status_code in (401, 403)

    assert running.get("/api/timelapse", role="viewer").status_code == 200
    with running.client("viewer") as session:
        assert session.delete(running.url + "/api/timelapse/a_1.mp4", timeout=30).status_code == 403
    with running.client("user") as session:
        answer = session.delete(running.url + "/api/timelapse/a_1.mp4", timeout=30)
        assert answer.status_code == 200 and "a_1.mp4" not in {f["name"] for f in answer.json()["files"]}
        assert session.delete(running.url + "/api/timelapse/notes.txt", timeout=30).status_code == 200
    assert sorted(os.listdir(videos)) == [".hidden.mp4", "b_2.gif", "notes.txt", "tmp"]


def test_configuring_for_this_run_and_saving(with_camera):
    running = with_camera
    settings = running.context.settings
    answer = running.post("/api/timelapse", role="user", json={"type": "timed", "interval": 7, "fps": 30,
                                                                "postRoll": 2, "renderAfterPrint": "success",
                                                                "save": True})
    assert answer.status_code == 200
    assert answer.json()["config"] == {"type": "timed", "interval": 7, "fps": 30, "postRoll": 2,
                                       "renderAfterPrint": "success"}
    assert settings.get("webcam.timelapse.type") == "off"  # only an admin may save

    form = running.post("/api/timelapse", data={"type": "zchange", "retractionZHop": "0.6", "minDelay": "2",
                                                "save": "true"})
    assert form.status_code == 200
    assert form.json()["config"] == {"type": "zchange", "retractionZHop": 0.6, "minDelay": 2.0, "fps": 25,
                                     "postRoll": 0, "renderAfterPrint": "always"}
    assert settings.get("webcam.timelapse.type") == "zchange"
    assert settings.get("webcam.timelapse.options.retractionZHop") == 0.6

    for bad in ({"type": "sometimes"}, {"type": "timed", "interval": 0}, {"type": "timed", "fps": "many"},
                {"type": "timed", "postRoll": -1}, {"type": "zchange", "minDelay": 0},
                {"type": "timed", "renderAfterPrint": "maybe"}, {"type": "timed", "fps": 10**30},
                {"type": "timed", "fps": True}, {"type": "timed", "interval": [1]}):
        response = running.post("/api/timelapse", json=bad)
        assert response.status_code == 400 and response.json()["error"], bad
    assert running.get("/api/timelapse").json()["config"]["type"] == "zchange"
    assert running.post("/api/timelapse", role="viewer", json={"type": "off"}).status_code == 403


def test_unrendered_recordings_are_listed_rendered_and_deleted_by_name_only(with_camera, camera_frames):
    running = with_camera
    storage = running.context.timelapse.storage
    for prefix in ("cube_1", "cube_12"):
        for number in range(3):
            with open(storage.capture_path(prefix, number), "wb") as f:
                f.write(camera_frames[number])
    unrendered = running.get("/api/timelapse?unrendered=true").json()["unrendered"]
    assert [entry["name"] for entry in unrendered] == ["cube_1", "cube_12"]
    assert unrendered[0]["count"] == 3 and unrendered[0]["processing"] is False

    assert delete(running, "/api/timelapse/unrendered/cube_1").status_code == 204
    assert list(storage.recordings()) == ["cube_12"]  # not every name starting with cube_1
    assert delete(running, "/api/timelapse/unrendered/nothing").status_code == 204

    render = running.post("/api/timelapse/unrendered/cube_12", json={"command": "render"})
    assert render.status_code == 204
    assert running.post("/api/timelapse/unrendered/nothing", json={"command": "render"}).status_code == 404
    assert running.post("/api/timelapse/unrendered/cube_12", json={"command": "explode"}).status_code == 400
    assert running.post("/api/timelapse/unrendered/cube_12", role="viewer",
                        json={"command": "render"}).status_code == 403
    files = wait_until(lambda: running.get("/api/timelapse").json()["files"], timeout=60)
    assert files[0]["name"] == "cube_12.mp4" and storage.recordings() == {}


def test_the_snapshot_proxy(with_camera, camera):
    running = with_camera
    with running.client() as anonymous:
        assert anonymous.get(running.url + "/downloads/camera/current", timeout=30).status_code == 403
    with running.client("viewer") as session:
        first = session.get(running.url + "/downloads/camera/current", timeout=30)
        second = session.get(running.url + "/downloads/camera/current?webcam=classic", timeout=30)
        assert first.status_code == 200 and first.headers["Content-Type"] == "image/jpeg"
        assert first.content == camera.frames[0] and second.content == camera.frames[1]
        missing = session.get(running.url + "/downloads/camera/current?webcam=nope", timeout=30)
        assert missing.status_code == 404 and "nope" in missing.json()["error"]
        camera.behaviour = "error"
        broken = session.get(running.url + "/downloads/camera/current", timeout=30)
        assert broken.status_code == 502 and "HTTP 500" in broken.json()["error"]
        camera.behaviour = "huge"
        running.context.settings.set("webcam.maxSnapshotSize", 1024 * 1024)
        huge = session.get(running.url + "/downloads/camera/current", timeout=30)
        assert huge.status_code == 502 and "larger than" in huge.json()["error"]


def test_the_snapshot_proxy_without_a_camera(running):
    answer = running.get("/downloads/camera/current", role="viewer")
    assert answer.status_code == 404 and "webcam.snapshot" in answer.json()["error"]


def test_webcam_settings_in_octoprint_shape_and_back(with_camera, camera):
    running = with_camera
    running.context.settings.set("webcam.cameras", [{"name": "side", "snapshot": camera.snapshot_url}])
    webcam = running.get("/api/settings").json()["webcam"]
    assert OCTOPRINT_WEBCAM_KEYS <= set(webcam)
    assert webcam["streamUrl"] == camera.stream_url and webcam["snapshotUrl"] == camera.snapshot_url
    assert webcam["ffmpegPath"] == "ffmpeg" and webcam["defaultWebcam"] == webcam["snapshotWebcam"] == "classic"
    assert [entry["name"] for entry in webcam["webcams"]] == ["classic", "side"]
    assert all(set(entry) == WEBCAM_MODEL_KEYS for entry in webcam["webcams"])
    assert webcam["webcams"][0]["compat"]["stream"] == camera.stream_url
    assert webcam["streamWebrtcIceServers"] == ["stun:stun.l.google.com:19302"]

    # posted back as read, nothing changes; OctoPrint's names reach octohost's settings
    assert running.post("/api/settings", json={"webcam": webcam}).status_code == 200
    assert running.get("/api/settings").json()["webcam"] == webcam
    changed = running.post("/api/settings", json={"webcam": {"snapshotUrl": "http://cam/snap", "ffmpegPath":
                                                             "/opt/ffmpeg", "flipV": True}}).json()["webcam"]
    assert changed["snapshotUrl"] == "http://cam/snap" and changed["ffmpegPath"] == "/opt/ffmpeg"
    assert running.context.settings.get("webcam.snapshot") == "http://cam/snap" and changed["flipV"] is True
    for bad in ({"cameras": [{"name": "classic"}]}, {"cameras": "x"}, {"timelapse": {"type": "always"}},
                {"snapshotTimeout": 0}, {"streamRatio": "1:1"}):
        answer = running.post("/api/settings", json={"webcam": bad})
        assert answer.status_code == 400 and answer.json()["error"], bad


def test_home_assistants_pyoctoprintapi_reads_the_camera(with_camera, camera):
    from pyoctoprintapi import OctoprintClient

    running = with_camera
    running.context.settings.update([(("webcam", "flipH"), True), (("webcam", "rotate90"), True)])

    async def read():
        client = OctoprintClient("127.0.0.1", port=running.server.port)
        client.set_api_key(running.keys["user"])
        try:
            return await client.get_webcam_info()
        finally:
            await client._api._session.close()

    info = asyncio.run(read())
    assert info.enabled is True and info.stream_url == camera.stream_url
    assert info.internal_snapshot_url == camera.snapshot_url
    assert info.flip_horizontal is True and info.flip_vertical is False and info.rotate_90 is True
    assert info.bitrate == "10000k" and info.snapshot_ssl_validation_enabled is True


def test_the_push_socket_carries_the_timelapse_config_and_render_progress(with_camera, camera_frames):
    import json

    import websocket

    running = with_camera
    ws = websocket.create_connection(running.url.replace("http", "ws") + "/sockjs/websocket", timeout=10)
    seen = []

    def until(predicate):
        def read():
            message = json.loads(ws.recv())
            seen.append(message)
            return message if predicate(message) else None

        return wait_until(read, timeout=60, interval=0, message=lambda: f"a message; got {seen[-5:]}")

    try:
        until(lambda m: "connected" in m)
        login = running.post("/api/login", role="user", json={"passive": True}).json()
        ws.send(json.dumps({"auth": f"{login['name']}:{login['session']}"}))
        assert until(lambda m: "timelapse" in m) == {"timelapse": None}  # timelapse.type is off
        assert any("history" in m for m in seen)
        running.post("/api/timelapse", json={"type": "timed", "interval": 3})
        assert until(lambda m: "timelapse" in m) == {"timelapse": {"type": "timed", "options": {"interval": 3}}}
        storage = running.context.timelapse.storage
        for number, data in enumerate(camera_frames[:6]):
            with open(storage.capture_path("push_1", number), "wb") as f:
                f.write(data)
        assert running.post("/api/timelapse/unrendered/push_1", json={"command": "render"}).status_code == 204
        until(lambda m: m.get("renderProgress", {}).get("progress") == 100.0)
        progress = [m["renderProgress"]["progress"] for m in seen if "renderProgress" in m]
        assert progress[0] == 0.0 and progress == sorted(progress)
        until(lambda m: m.get("event", {}).get("type") == "MovieDone")
    finally:
        ws.close()
