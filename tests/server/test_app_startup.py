"""What the server does as it starts: clearing what an interrupted write (kill -9) left behind."""


def test_start_up_removes_temp_files_left_by_interrupted_writes(start_server, tmp_path):
    base = tmp_path / "base0"  # where start_server puts its first server
    stale = [base / ".config.yaml.abcd1234.tmp", base / ".users.yaml.x_y_z_12.tmp",
             base / "data" / ".appkeys.yaml.qwertyui.tmp", base / "printerProfiles" / ".default.profile.a1b2c3d4.tmp",
             base / "uploads" / "sub" / "..metadata.json.zzzzzzzz.tmp"]
    kept = [base / "uploads" / "sub" / "part.gcode", base / "data" / "notes.tmp", base / "config.yaml.tmp"]
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half")
    running = start_server()
    assert running.get("/api/version").status_code == 200
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in kept)
