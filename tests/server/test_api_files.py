"""Uploads (PrusaSlicer and Cura flows), folders, downloads, copy/move/delete, limits and confinement."""

import base64
import os
import struct
import zlib

import requests

from support import wait_until

GCODE = b"G28\nG1 X10 Y10 F3000\nG1 X20 Y20\nM84\n"


def upload(running, name="part.gcode", content=GCODE, role="admin", **fields):
    return running.post("/api/files/local", role=role, files={"file": (name, content)},
                        data={k: str(v).lower() for k, v in fields.items()})


def test_prusaslicer_upload_answers_octoprint_body_and_location(running):
    response = upload(running, "benchy.gcode", path="", print=False)
    assert response.status_code == 201
    body = response.json()
    assert body["done"] is True
    local = body["files"]["local"]
    assert local["name"] == "benchy.gcode" and local["origin"] == "local" and local["path"] == "benchy.gcode"
    assert response.headers["Location"] == local["refs"]["resource"]
    assert local["refs"]["download"].endswith("/downloads/files/local/benchy.gcode")
    assert body["effectiveSelect"] is False and body["effectivePrint"] is False
    with open(os.path.join(running.context.settings.folder("uploads"), "benchy.gcode"), "rb") as f:
        assert f.read() == GCODE


def test_upload_into_folder_and_list_recursively(running):
    folder = {"foldername": (None, "parts"), "path": (None, "")}
    assert running.post("/api/files/local", files=folder).status_code == 201
    response = upload(running, "a.gcode", path="parts")
    assert response.json()["files"]["local"]["path"] == "parts/a.gcode"
    flat = running.get("/api/files/local").json()["files"]
    assert [e["name"] for e in flat] == ["parts"] and "children" not in flat[0] or flat[0]["children"] == []
    tree = running.get("/api/files/local?recursive=true").json()["files"]
    assert tree[0]["children"][0]["path"] == "parts/a.gcode"
    assert tree[0]["children"][0]["refs"]["resource"].endswith("/api/files/local/parts/a.gcode")


def test_cura_flow_uploads_then_posts_select_to_the_location(running):
    response = upload(running, "cura.gcode", path="", select=False, print=False)
    location = response.headers["Location"]
    command = requests.post(location, json={"command": "select", "print": False}, timeout=10,
                            headers={"X-Api-Key": running.keys["user"]})
    assert command.status_code == 409
    assert command.json()["error"] == "Printer is not operational"
    info = requests.get(location, headers={"X-Api-Key": running.keys["viewer"]}, timeout=10).json()
    assert info["name"] == "cura.gcode" and info["size"] == len(GCODE)


def test_download_streams_the_file_with_a_version_etag_and_needs_login(running):
    upload(running, "dl.gcode", content=b"G1 X1\n" * 5000)
    url = running.url + "/downloads/files/local/dl.gcode"
    first = requests.get(url, headers={"X-Api-Key": running.keys["viewer"]}, timeout=10)
    assert first.status_code == 200 and first.content == b"G1 X1\n" * 5000
    assert "attachment" in first.headers["Content-Disposition"]
    again = requests.get(url, headers={"X-Api-Key": running.keys["viewer"], "If-None-Match": first.headers["Etag"]},
                         timeout=10)
    assert again.status_code == 304
    assert requests.get(url, timeout=10).status_code == 403


def test_paths_cannot_escape_the_uploads_folder(running):
    secret = os.path.join(running.context.settings.basedir, "users.yaml")
    assert os.path.exists(secret)
    for path in ("../users.yaml", "..%2Fusers.yaml", "%2e%2e/users.yaml", ".metadata.json"):
        assert running.get("/downloads/files/local/" + path).status_code == 404, path
    response = upload(running, "x.gcode", path="../../outside")
    assert response.status_code == 400
    assert not os.path.exists(os.path.join(running.context.settings.basedir, "..", "outside"))
    assert running.post("/api/files/local/x.gcode", json={"command": "copy", "destination": "../../x.gcode"}
                        ).status_code in (400, 404)


def test_unsupported_type_is_415_and_leaves_no_temp_file(running):
    response = upload(running, "virus.exe", content=b"MZ")
    assert response.status_code == 415
    uploads = running.context.settings.folder("uploads")
    assert [n for n in os.listdir(uploads) if n.startswith(".upload-")] == []


def test_existing_file_is_replaced_unless_no_overwrite(running):
    upload(running, "same.gcode", content=b"G1 X1\n")
    assert upload(running, "same.gcode", content=b"G1 X2\n").status_code == 201
    refused = upload(running, "same.gcode", content=b"G1 X3\n", noOverwrite=True)
    assert refused.status_code == 409
    assert running.get("/downloads/files/local/same.gcode").content == b"G1 X2\n"


def test_upload_over_the_limit_is_413(start_server):
    running = start_server(settings_values={"server.maxUploadSize": 2048})
    response = upload(running, "big.gcode", content=b"G1 X1\n" * 2000)
    assert response.status_code == 413
    assert "maximum" in response.json()["error"]
    assert upload(running, "small.gcode", content=b"G1 X1\n").status_code == 201


def test_streamed_upload_without_length_over_the_limit_is_413(start_server):
    running = start_server(settings_values={"server.maxUploadSize": 4096})
    boundary = "xyzzy"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.gcode\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()

    def chunks():
        yield head
        for _ in range(10):
            yield b"G1 X1\n" * 200

    response = requests.post(running.url + "/api/files/local", data=chunks(), timeout=10,
                             headers={"X-Api-Key": running.keys["admin"],
                                      "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413


def test_truncated_multipart_is_400_and_stores_nothing(running):
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.gcode\"\r\n\r\nG1 X1\n")
    response = running.post("/api/files/local", data=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert response.status_code == 400
    assert running.get("/api/files/local").json()["files"] == []


def test_the_api_refuses_a_forged_upload_form(running):
    forged = running.post("/api/files/local", data={"file.path": "/etc/passwd", "file.name": "p.gcode"})
    assert forged.status_code == 400
    assert running.get("/api/files/local").json()["files"] == []
    forged_folder = running.post("/api/files/local", data={"file.path": "/etc/passwd", "file.name": "p.gcode",
                                                           "foldername": "sneaky"})
    assert forged_folder.status_code == 201  # the folder, and nothing from the forged file fields
    assert [e["name"] for e in running.get("/api/files/local").json()["files"]] == ["sneaky"]


def test_a_folder_is_created_from_a_url_encoded_form_as_in_octoprint(running):
    created = running.post("/api/files/local", data={"foldername": "plain", "path": ""})
    assert created.status_code == 201, created.text
    assert created.json()["folder"]["path"] == "plain"
    inner = running.post("/api/files/local", data={"foldername": "inner", "path": "plain"})
    assert inner.status_code == 201 and inner.json()["folder"]["path"] == "plain/inner"
    assert running.post("/api/files/local", data={"foldername": "x" * 70000}).status_code == 413
    assert running.post("/api/files/local", data={"nothing": "here"}).status_code == 400
    assert running.post("/api/files/local", data={"foldername": "anon"}, role=None).status_code == 403


def test_copy_move_and_delete(running):
    upload(running, "orig.gcode")
    running.post("/api/files/local", files={"foldername": (None, "box")})
    copied = running.post("/api/files/local/orig.gcode", json={"command": "copy", "destination": "box"})
    assert copied.status_code == 201
    assert copied.headers["Location"].endswith("/api/files/local/box/orig.gcode")
    copy_again = {"command": "copy", "destination": "box"}
    assert running.post("/api/files/local/orig.gcode", json=copy_again).status_code == 409
    moved = running.post("/api/files/local/orig.gcode", json={"command": "move", "destination": "renamed.gcode"})
    assert moved.status_code == 201 and moved.json()["path"] == "renamed.gcode"
    assert running.get("/api/files/local/orig.gcode").status_code == 404
    assert running.client("user").delete(running.url + "/api/files/local/box").status_code == 204
    names = sorted(e["name"] for e in running.get("/api/files/local").json()["files"])
    assert names == ["renamed.gcode"]


def test_slice_is_refused_with_the_right_code(running):
    upload(running, "m.gcode")
    running.post("/api/files/local", files={"file": ("cube.stl", b"solid cube\nendsolid cube\n")})
    assert running.post("/api/files/local/m.gcode", json={"command": "slice"}).status_code == 415
    assert running.post("/api/files/local/cube.stl", json={"command": "slice"}).status_code == 400


def test_analyse_and_file_metadata(running):
    upload(running, "an.gcode")
    assert running.post("/api/files/local/an.gcode", json={"command": "analyse"}).status_code == 204
    running.context.file_manager.wait_for_analysis("an.gcode", 30)
    entry = running.get("/api/files/local/an.gcode").json()
    assert "gcodeAnalysis" in entry


def test_readonly_user_cannot_upload_or_delete(running):
    assert upload(running, "ro.gcode", role="viewer").status_code == 403
    upload(running, "ro.gcode")
    assert running.client("viewer").delete(running.url + "/api/files/local/ro.gcode").status_code == 403
    assert running.get("/api/files/local/ro.gcode", role="viewer").status_code == 200


def test_a_text_field_cannot_pose_as_the_uploaded_file(running):
    upload(running, "keep.gcode")
    victim = os.path.join(running.context.settings.folder("uploads"), "keep.gcode")
    response = running.post("/api/files/local", files={"file.path": (None, victim), "file.name": (None, "x.gcode")})
    assert response.status_code == 400
    assert os.path.exists(victim)


def test_multi_megabyte_upload_arrives_intact(running):
    content = b"".join(b"G1 X%d Y%d\n" % (i % 200, i % 150) for i in range(300000))
    assert upload(running, "large.gcode", content=content).status_code == 201
    assert running.get("/downloads/files/local/large.gcode").content == content


def test_upload_to_sd_card_streams_to_the_printer(running):
    assert upload_to(running, "sdcard").status_code == 409
    running.post("/api/connection", json={"command": "connect", "port": "VIRTUAL"})
    printer = running.context.printer
    wait_until(lambda: printer.is_operational() and printer.is_sd_ready(), message="the printer and its card ready")
    response = upload_to(running, "sdcard")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["done"] is False and body["files"]["local"]["path"] == "card.gcode"
    remote = body["files"]["sdcard"]["name"]
    assert response.headers["Location"].endswith("/api/files/sdcard/" + remote)
    on_card = wait_until(lambda: next((entry["path"] for entry in running.get("/api/files/sdcard").json()["files"]
                                       if entry["name"].lower() == remote.lower()), None),
                         interval=0.2, message=lambda: f"{remote} on the card: {running.get('/api/files/sdcard').text}")
    assert running.client("user").delete(f"{running.url}/api/files/sdcard/{on_card}", timeout=10).status_code == 204
    assert running.client("user").delete(f"{running.url}/api/files/sdcard/missing.gco", timeout=10).status_code == 404
    wait_until(lambda: all(e["path"] != on_card for e in running.get("/api/files/sdcard").json()["files"]),
               interval=0.2, message="the deleted file gone from the card's listing")


def upload_to(running, target):
    return running.post(f"/api/files/{target}", files={"file": ("card.gcode", GCODE)})


def test_other_methods_on_the_upload_path_keep_the_connection_usable(running):
    client = running.client("admin")
    for _ in range(20):
        assert client.get(running.url + "/api/files/local", timeout=10).status_code == 200
        assert client.put(running.url + "/api/files/local", json={"x": 1}, timeout=10).status_code == 405
        assert client.post(running.url + "/api/login", json={"passive": True}, timeout=10).status_code == 200


def png_bytes(width, height, rgb=(200, 40, 40)):
    """A valid one-colour PNG built by hand (no imaging library needed)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def prusaslicer_gcode(png):
    """G-code with a thumbnail block as PrusaSlicer writes it (base64 in 78-character comment lines)."""
    encoded = base64.b64encode(png).decode()
    lines = [f"; thumbnail begin 16x12 {len(encoded)}"] + [f"; {encoded[i:i + 78]}" for i in range(0, len(encoded), 78)]
    lines += ["; thumbnail end", "", "G28", "G1 X10 Y10 F3000", "M84"]
    return ("\n".join(lines) + "\n").encode()


def wait_for_entry(running, path, predicate, timeout=30):
    """The file's entry once ``predicate(entry)`` holds (the last entry read is in the failure)."""
    last = {}

    def matching():
        last["entry"] = running.get(f"/api/files/local/{path}").json()
        return last["entry"] if predicate(last["entry"]) else None

    return wait_until(matching, timeout=timeout, message=lambda: f"{path} to match; last entry {last.get('entry')}")


def test_thumbnail_of_an_upload_is_served_at_its_ref_with_download_permission(running):
    png = png_bytes(16, 12)
    assert running.post("/api/files/local", files={"foldername": (None, "sub")}).status_code == 201
    upload(running, "thumb.gcode", content=prusaslicer_gcode(png), path="sub")
    entry = wait_for_entry(running, "sub/thumb.gcode", lambda e: e.get("thumbnails"))
    url = entry["refs"]["thumbnail"]
    assert "/downloads/thumbs/local/sub/thumb.gcode?" in url
    assert entry["thumbnails"][0]["url"] == url and entry["thumbnails"][0]["width"] == 16
    assert running.url + "/" + entry["thumbnail"] == url
    image = requests.get(url, headers={"X-Api-Key": running.keys["viewer"]}, timeout=10)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/png" and image.content == png
    assert requests.get(url, timeout=10).status_code == 403
    base = running.url + "/downloads/thumbs/local/"
    key = {"X-Api-Key": running.keys["admin"]}
    assert requests.get(base + "sub/thumb.gcode?name=../../users.yaml", headers=key, timeout=10).status_code == 404
    assert requests.get(base + "..%2F..%2Fusers.yaml", headers=key, timeout=10).status_code == 404
    assert requests.get(base + "missing.gcode", headers=key, timeout=10).json() == {"error": "Thumbnail not found"}
    plain = upload(running, "plain.gcode").json()["files"]["local"]
    assert "thumbnail" not in plain["refs"] and "thumbnail" not in plain
