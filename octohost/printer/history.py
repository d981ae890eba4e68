"""Print history: one row per job in ``BASEDIR/data/history.db`` (stdlib sqlite3).

One connection guarded by a lock serves every thread; writes are single statements in their own
transaction and the journal is WAL, so a crash loses at most the row being written. A job that
never got an end (the host died) is marked failed on the next start.
"""

import os
import sqlite3
import threading
import time

RESULTS = ("done", "cancelled", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    name TEXT,
    origin TEXT NOT NULL,
    started REAL NOT NULL,
    ended REAL,
    duration REAL,
    result TEXT,
    reason TEXT,
    filament_length REAL,
    user TEXT
)
"""

_COLUMNS = ("id", "path", "name", "origin", "started", "ended", "duration", "result", "reason",
            "filament_length", "user")


class PrintHistory:
    def __init__(self, path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(_SCHEMA)

    @classmethod
    def for_settings(cls, settings):
        return cls(os.path.join(settings.folder("data"), "history.db"))

    def mark_interrupted(self, reason="octohost stopped during the print"):
        """Close rows left open by a crash; returns how many there were."""
        with self._lock:
            cursor = self._db.execute("UPDATE jobs SET result = 'failed', reason = ? WHERE result IS NULL", (reason,))
            return cursor.rowcount

    def start(self, path, origin, name=None, filament_length=None, user=None, started=None):
        """Record a job start; returns the row id to finish later."""
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO jobs (path, name, origin, started, filament_length, user) VALUES (?, ?, ?, ?, ?, ?)",
                (path, name or os.path.basename(path), origin, started if started is not None else time.time(),
                 filament_length, user))
            return cursor.lastrowid

    def finish(self, job_id, result, reason=None, ended=None, duration=None):
        if result not in RESULTS:
            raise ValueError(f"result must be one of {', '.join(RESULTS)}, got {result!r}")
        ended = ended if ended is not None else time.time()
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET ended = ?, duration = COALESCE(?, ? - started), result = ?, reason = ? WHERE id = ?",
                (ended, duration, ended, result, reason, job_id))

    def get(self, job_id):
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return dict(zip(_COLUMNS, row)) if row else None

    def list(self, limit=50, offset=0):
        """Newest first."""
        limit, offset = int(limit), int(offset)
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM jobs ORDER BY id DESC LIMIT ? OFFSET ?",
                                    (limit, offset)).fetchall()
        return [dict(zip(_COLUMNS, row)) for row in rows]

    def stats(self):
        with self._lock:
            count, duration, filament = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(duration), 0), COALESCE(SUM(filament_length), 0) FROM jobs").fetchone()
            by_result = dict(self._db.execute(
                "SELECT result, COUNT(*) FROM jobs WHERE result IS NOT NULL GROUP BY result").fetchall())
        return {"count": count, "total_duration": duration, "total_filament_length": filament,
                **{result: by_result.get(result, 0) for result in RESULTS}}

    def close(self):
        with self._lock:
            self._db.close()
