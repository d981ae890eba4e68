"""Print history: an append-only journal of jobs in ``BASEDIR/data/history.jsonl``.

A job's start and its end are one JSON line each, appended and fsynced, so a crash loses at most
the line being written; a torn last line is skipped when reading and the next append starts on a
fresh line. A job that never got an end (the host died) is marked failed on the next start.
Plain JSON lines keep the daemon free of sqlite (about 1 MiB of its resident memory) and leave a
file that anyone can read, back up or trim.
"""

import json
import logging
import os
import threading
import time

log = logging.getLogger(__name__)

RESULTS = ("done", "cancelled", "failed")

_START_FIELDS = ("id", "path", "name", "origin", "started", "filament_length", "user")
_END_FIELDS = ("ended", "duration", "result", "reason")


class PrintHistory:
    def __init__(self, path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        with self._lock:
            self._next_id = max(self._rows(), default=0) + 1

    @classmethod
    def for_settings(cls, settings):
        return cls(os.path.join(settings.folder("data"), "history.jsonl"))

    def mark_interrupted(self, reason="octohost stopped during the print"):
        """Close jobs left open by a crash; returns how many there were."""
        with self._lock:
            open_jobs = [row for row in self._rows().values() if row["result"] is None]
            self._append([{"event": "end", "id": row["id"], "ended": None, "duration": None, "result": "failed",
                           "reason": reason} for row in open_jobs])
            return len(open_jobs)

    def start(self, path, origin, name=None, filament_length=None, user=None, started=None):
        """Record a job start; returns the job's id to finish it later."""
        with self._lock:
            job_id = self._next_id
            self._next_id += 1
            self._append([{"event": "start", "id": job_id, "path": path, "name": name or os.path.basename(path),
                           "origin": origin, "started": started if started is not None else time.time(),
                           "filament_length": filament_length, "user": user}])
            return job_id

    def finish(self, job_id, result, reason=None, ended=None, duration=None):
        if result not in RESULTS:
            raise ValueError(f"result must be one of {', '.join(RESULTS)}, got {result!r}")
        ended = ended if ended is not None else time.time()
        with self._lock:
            row = self._rows().get(job_id)
            if row is None:
                return
            if duration is None:
                duration = ended - row["started"]
            self._append([{"event": "end", "id": job_id, "ended": ended, "duration": duration, "result": result,
                           "reason": reason}])

    def get(self, job_id):
        with self._lock:
            return self._rows().get(job_id)

    def list(self, limit=50, offset=0):
        """Newest first."""
        limit, offset = int(limit), int(offset)
        if limit < 0 or offset < 0:
            raise ValueError("limit and offset must not be negative")
        with self._lock:
            rows = list(self._rows().values())
        rows.reverse()
        return rows[offset:offset + limit]

    def stats(self):
        with self._lock:
            rows = list(self._rows().values())
        counts = {result: sum(1 for row in rows if row["result"] == result) for result in RESULTS}
        return {"count": len(rows), "total_duration": sum(row["duration"] or 0 for row in rows),
                "total_filament_length": sum(row["filament_length"] or 0 for row in rows), **counts}

    def close(self):
        """Nothing stays open between writes; kept so every history can be closed alike."""

    # -- the journal -----------------------------------------------------------------------------

    def _rows(self):
        """Every job by id, in the order they started, with its end applied (caller holds the lock)."""
        rows = {}
        try:
            f = open(self.path, encoding="utf-8")
        except FileNotFoundError:
            return rows
        with f:
            for number, line in enumerate(f, 1):
                try:
                    entry = json.loads(line)
                    job_id = entry["id"]
                    if entry["event"] == "start":
                        rows[job_id] = {**{key: entry.get(key) for key in _START_FIELDS},
                                        **dict.fromkeys(_END_FIELDS)}
                    elif job_id in rows:
                        rows[job_id].update((key, entry.get(key)) for key in _END_FIELDS)
                except (ValueError, KeyError, TypeError):
                    log.warning("%s line %d is not a history entry (torn by a crash?); skipped", self.path, number)
        return rows

    def _append(self, entries):
        if not entries:
            return
        text = "".join(json.dumps(entry, separators=(",", ":")) + "\n" for entry in entries)
        with open(self.path, "a+b") as f:
            if f.tell():
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":  # a torn line from a crash: keep it apart from ours
                    text = "\n" + text
            f.write(text.encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())
