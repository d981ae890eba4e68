"""Per-folder sidecar data: ``.metadata.json`` (one entry per file) and ``.thumbs/<file>/``.

Each entry holds what the manager knows about a file: hash, display name, links, the analysis
with the size and mtime it was computed for (so a changed file is re-analysed), slicer metadata,
thumbnail names, print statistics and plugins' additional keys. Every write is atomic; reads are
cached per folder and revalidated against the sidecar file's mtime and size.
"""

import binascii
import copy
import json
import logging
import os
import shutil
import threading

from octohost.util.fs import atomic_write

log = logging.getLogger(__name__)

METADATA_FILE = ".metadata.json"
THUMBS_FOLDER = ".thumbs"


class MetadataStore:
    def __init__(self):
        self._lock = threading.RLock()
        self._cache = {}  # folder -> ((mtime_ns, size), data)

    def _path(self, folder):
        return os.path.join(folder, METADATA_FILE)

    def load(self, folder):
        """All entries of ``folder`` (a fresh copy); an unreadable sidecar counts as empty."""
        with self._lock:
            return copy.deepcopy(self._load(folder))

    def _load(self, folder):
        path = self._path(folder)
        try:
            st = os.stat(path)
        except OSError:
            self._cache.pop(folder, None)
            return {}
        key = (st.st_mtime_ns, st.st_size)
        cached = self._cache.get(folder)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            if not isinstance(data, dict):
                data = {}
        except (OSError, ValueError):
            data = {}
        self._cache[folder] = (key, data)
        return data

    def _save(self, folder, data):
        path = self._path(folder)
        if data:
            atomic_write(path, json.dumps(data, indent=1, sort_keys=True))
        else:
            try:
                os.unlink(path)
            except OSError:
                pass
        self._cache.pop(folder, None)

    def get(self, folder, name):
        with self._lock:
            return copy.deepcopy(self._load(folder).get(name, {}))

    def update(self, folder, name, change):
        """Apply ``change(entry)`` to the entry of ``name`` (created empty if missing) and save."""
        with self._lock:
            data = copy.deepcopy(self._load(folder))
            entry = data.setdefault(name, {})
            result = change(entry)
            self._save(folder, data)
            return result

    def replace(self, folder, name, entry):
        with self._lock:
            data = copy.deepcopy(self._load(folder))
            if entry:
                data[name] = entry
            else:
                data.pop(name, None)
            self._save(folder, data)

    def remove(self, folder, name):
        with self._lock:
            data = self._load(folder)
            if name in data:
                data = copy.deepcopy(data)
                del data[name]
                self._save(folder, data)
            shutil.rmtree(self.thumbs_folder(folder, name), ignore_errors=True)

    def transfer(self, src_folder, src_name, dst_folder, dst_name, keep_source):
        """Copy (``keep_source``) or move an entry and its thumbnails to another folder/name."""
        with self._lock:
            entry = self.get(src_folder, src_name)
            src_thumbs = self.thumbs_folder(src_folder, src_name)
            dst_thumbs = self.thumbs_folder(dst_folder, dst_name)
            shutil.rmtree(dst_thumbs, ignore_errors=True)
            if os.path.isdir(src_thumbs):
                os.makedirs(os.path.dirname(dst_thumbs), exist_ok=True)
                if keep_source:
                    shutil.copytree(src_thumbs, dst_thumbs)
                else:
                    os.rename(src_thumbs, dst_thumbs)
            if not keep_source:
                self.remove(src_folder, src_name)
            self.replace(dst_folder, dst_name, entry)

    def forget_folder(self, folder):
        """Drop cached data of ``folder`` and everything below it (after a folder move/removal)."""
        with self._lock:
            prefix = folder + os.sep
            for key in [k for k in self._cache if k == folder or k.startswith(prefix)]:
                del self._cache[key]

    @staticmethod
    def thumbs_folder(folder, name):
        return os.path.join(folder, THUMBS_FOLDER, name)

    def write_thumbnails(self, folder, name, thumbnails):
        """Decode and write ``[{width, height, format, base64}]``; returns the descriptions of those
        written (undecodable ones are skipped with a warning)."""
        target = self.thumbs_folder(folder, name)
        with self._lock:
            shutil.rmtree(target, ignore_errors=True)
            described = []
            for thumb in thumbnails:
                try:
                    width, height, fmt = int(thumb["width"]), int(thumb["height"]), str(thumb["format"])
                    data = binascii.a2b_base64(thumb["base64"])
                except (KeyError, ValueError, TypeError, binascii.Error):
                    log.warning("skipping an undecodable thumbnail of %s", name)
                    continue
                file_name = f"{width}x{height}.{fmt}"
                if not fmt.isalnum() or any(d["name"] == file_name for d in described):
                    continue
                atomic_write(os.path.join(target, file_name), data)
                described.append({"name": file_name, "width": width, "height": height, "format": fmt})
            return described


def apply_analysis(entry, outcome, stamp, thumbnails):
    """Replace the version-specific part of a metadata entry with an analysis ``outcome``
    (None: it failed) made for the file version ``stamp``."""
    if entry.get("stamp") != stamp:
        entry.pop("hash", None)
    entry["stamp"] = stamp
    for key in ("analysis", "analysisError", "slicer", "thumbnails"):
        entry.pop(key, None)
    if outcome is None:
        entry["analysisError"] = "analysis failed, see the log"
        return
    entry["analysis"] = outcome.analysis
    if outcome.hash:
        entry["hash"] = outcome.hash
    if outcome.slicer:
        entry["slicer"] = outcome.slicer
    if thumbnails:
        entry["thumbnails"] = thumbnails

HISTORY_LENGTH = 50


def add_print(entry, success, print_time, timestamp, printer_profile_id=None):
    """Count one print in a metadata entry: ``prints`` totals, a short ``history`` and ``statistics``."""
    prints = entry.setdefault("prints", {"success": 0, "failure": 0})
    prints["success" if success else "failure"] += 1
    prints["last"] = {"date": timestamp, "printTime": print_time, "success": bool(success)}
    record = {"timestamp": timestamp, "success": bool(success), "printTime": print_time}
    if printer_profile_id:
        record["printerProfile"] = printer_profile_id
    entry["history"] = (entry.get("history", []) + [record])[-HISTORY_LENGTH:]
    entry["statistics"] = print_statistics(entry["history"])


def print_statistics(history):
    """averagePrintTime and lastPrintTime per printer profile, from the successful prints."""
    average, last, counts = {}, {}, {}
    for record in history:
        profile = record.get("printerProfile")
        if not record.get("success") or not profile or record.get("printTime") is None:
            continue
        counts[profile] = counts.get(profile, 0) + 1
        previous = average.get(profile, 0.0)
        average[profile] = previous + (record["printTime"] - previous) / counts[profile]
        last[profile] = record["printTime"]
    return {"averagePrintTime": average, "lastPrintTime": last} if counts else {}
