import json
import threading

import pytest

from octohost.printer.history import PrintHistory


@pytest.fixture
def history(tmp_path):
    db = PrintHistory(str(tmp_path / "data" / "history.jsonl"))
    yield db
    db.close()


def test_job_rows_and_stats(history):
    first = history.start("a/b.gcode", "local", filament_length=1200.0, started=100.0)
    history.finish(first, "done", ended=160.0)
    second = history.start("c.gcode", "sdcard", started=200.0)
    history.finish(second, "failed", reason="printer reported an error", ended=230.0)
    assert history.get(first) == {"id": first, "path": "a/b.gcode", "name": "b.gcode", "origin": "local",
                                  "started": 100.0, "ended": 160.0, "duration": 60.0, "result": "done",
                                  "reason": None, "filament_length": 1200.0, "user": None}
    assert [row["id"] for row in history.list()] == [second, first]
    assert [row["id"] for row in history.list(limit=1, offset=1)] == [first]
    stats = history.stats()
    assert stats["count"] == 2 and stats["done"] == 1 and stats["failed"] == 1 and stats["cancelled"] == 0
    assert stats["total_duration"] == 90.0 and stats["total_filament_length"] == 1200.0


def test_bad_input(history):
    job = history.start("x.gcode", "local")
    with pytest.raises(ValueError):
        history.finish(job, "exploded")
    with pytest.raises(ValueError):
        history.list(limit=-1)
    assert history.get(9999) is None


def test_interrupted_jobs_marked_on_restart(tmp_path):
    path = str(tmp_path / "history.jsonl")
    db = PrintHistory(path)
    job = db.start("x.gcode", "local")
    db.close()
    db = PrintHistory(path)
    assert db.mark_interrupted() == 1
    assert db.get(job)["result"] == "failed"
    db.close()


def test_concurrent_writers(history):
    def work():
        for _ in range(20):
            history.finish(history.start("x.gcode", "local"), "done")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert history.stats()["done"] == 80


def test_the_journal_is_json_lines_and_survives_a_torn_last_line(tmp_path):
    path = tmp_path / "history.jsonl"
    db = PrintHistory(str(path))
    first = db.start("a.gcode", "local", started=10.0)
    db.finish(first, "done", ended=70.0)
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(entry["event"], entry["id"]) for entry in entries] == [("start", first), ("end", first)]
    with open(path, "a") as f:
        f.write('{"event": "start", "id": 2, "pa')  # the host died while writing
    db = PrintHistory(str(path))
    second = db.start("b.gcode", "local", started=100.0)
    db.finish(second, "cancelled", ended=105.0)
    assert second == first + 1
    assert [(row["id"], row["result"], row["duration"]) for row in db.list()] == [(second, "cancelled", 5.0),
                                                                                (first, "done", 60.0)]
    assert db.stats()["count"] == 2
