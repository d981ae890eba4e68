"""Backups and system information over real HTTP, in the shape of OctoPrint's APIs."""

import io
import os
import zipfile

import yaml

from support import wait_until


def test_backup_lifecycle_over_http(running):
    created = running.post("/plugin/backup/backup", json={"exclude": ["uploads"]})
    assert created.status_code == 201, created.text
    name = created.json()["name"]
    assert created.json()["started"] is True

    listed = wait_until(lambda: [b for b in running.get("/plugin/backup/backup").json()["backups"]
                                 if b["name"] == name], message="the backup to be listed")
    entry = listed[0]
    assert entry["size"] > 0 and isinstance(entry["date"], int)
    assert entry["url"] == f"/plugin/backup/download/{name}"

    download = running.get(entry["url"])
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as z:
        assert "basedir/users.yaml" in z.namelist()
        assert not [n for n in z.namelist() if n.startswith("basedir/uploads")]

    assert running.client("user").delete(f"{running.url}/plugin/backup/backup/{name}", timeout=30).status_code == 403
    deleted = running.client("admin").delete(f"{running.url}/plugin/backup/backup/{name}", timeout=30)
    assert deleted.status_code == 204
    assert running.get("/plugin/backup/backup").json()["backups"] == []


def test_only_admins_handle_backups(running):
    for role in ("user", "viewer"):
        assert running.get("/plugin/backup/backup", role=role).status_code == 403
        assert running.post("/plugin/backup/backup", role=role, json={}).status_code == 403
        assert running.get("/plugin/backup/download/x.zip", role=role).status_code == 403
        assert running.post("/plugin/backup/restore", role=role, json={"path": "x.zip"}).status_code == 403
    assert running.get("/plugin/backup/backup", role=None).status_code in (401, 403)


def test_bad_backup_requests_get_clear_4xx(running):
    assert running.post("/plugin/backup/backup", json={"exclude": ["logs"]}).status_code == 400
    assert running.post("/plugin/backup/backup", json={"exclude": "uploads"}).status_code == 400
    assert running.post("/plugin/backup/restore", json={"path": "../config.yaml"}).status_code == 404
    assert running.post("/plugin/backup/restore", json={"path": 5}).status_code == 400
    assert running.post("/plugin/backup/restore", data=b"x" * 10,
                        headers={"Content-Type": "application/json"}).status_code == 400
    big = running.post("/plugin/backup/restore", data=b"[" + b" " * (100 * 1024) + b"]",
                       headers={"Content-Type": "application/json"})
    assert big.status_code == 413
    dotdot = running.client("admin").delete(f"{running.url}/plugin/backup/backup/..", timeout=30)
    assert dotdot.status_code in (404, 405)
    assert running.get("/plugin/backup/download/../config.yaml").status_code == 404
    # an uploaded file that is not a backup: 400, nothing changed
    before = open(running.context.settings.config_path, "rb").read() if os.path.exists(
        running.context.settings.config_path) else None
    bad = running.post("/plugin/backup/restore", files={"file": ("x.zip", b"not a zip")})
    assert bad.status_code == 400 and "not a backup archive" in bad.json()["error"]
    after = open(running.context.settings.config_path, "rb").read() if os.path.exists(
        running.context.settings.config_path) else None
    assert before == after
    assert running.server.restart_requested is False


def test_restore_of_an_uploaded_archive_applies_it_and_asks_for_a_restart(running):
    settings = running.context.settings
    settings.set("serial.baudrate", 250000)
    made = running.post("/plugin/backup/backup", json={})
    name = made.json()["name"]
    wait_until(lambda: any(b["name"] == name for b in running.get("/plugin/backup/backup").json()["backups"]),
               message="the backup")
    archive = running.get(f"/plugin/backup/download/{name}").content
    settings.set("serial.baudrate", 57600)

    restored = running.post("/plugin/backup/restore", files={"file": (name, archive)})
    assert restored.status_code == 200, restored.text
    assert restored.json()["restarting"] is True
    with open(settings.config_path) as f:
        assert yaml.safe_load(f)["serial"]["baudrate"] == 250000
    assert running.server.restart_requested is True


def test_system_info_in_octoprints_shape(running):
    info = running.get("/api/system/info")
    assert info.status_code == 200
    values = info.json()["systeminfo"]
    for key in ("octohost.version", "env.os.platform", "env.python.version", "env.hardware.cores",
                "systeminfo.generator"):
        assert key in values, key
    assert values["systeminfo.generator"] == "systemapi"
    assert running.get("/api/system/info", role="user").status_code == 403


def test_systeminfo_bundle_masks_secrets(running):
    settings = running.context.settings
    settings.set("server.secretKey", "very-secret-value")
    response = running.get("/downloads/systeminfo.zip")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as z:
        assert {"systeminfo.txt", "settings.yaml", "plugins.txt"} <= set(z.namelist())
        text = z.read("settings.yaml").decode()
        assert "very-secret-value" not in text and "<masked>" in text
        assert "octohost.version" in z.read("systeminfo.txt").decode()
    assert running.get("/downloads/systeminfo.zip", role="user").status_code == 403
