"""Looking after a base folder: backups and restores, the diagnostics bundle, the daemon's lock.

Each concept has its own module; the command line (``octohost backup``, ``restore``,
``systeminfo``) and the REST API (``/plugin/backup/...``, ``/api/system/info``,
``/downloads/systeminfo.zip``) are thin callers of these.
"""
