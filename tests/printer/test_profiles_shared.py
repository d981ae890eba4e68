"""Printer profiles changed by two processes at once (the daemon and ``octohost profiles``)."""

import multiprocessing

from octohost.printer.profiles import PrinterProfileManager
from octohost.settings import Settings


def _bump(basedir, field, times):
    manager = PrinterProfileManager(Settings(basedir))
    for i in range(times):
        manager.update("shared", {field: f"{field}-{i}"})


def test_concurrent_updates_of_one_profile_lose_nothing(tmp_path):
    settings = Settings(str(tmp_path))
    PrinterProfileManager(settings).save({"id": "shared", "name": "Shared", "model": "m"})
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_bump, args=(str(tmp_path), field, 40)) for field in ("name", "model")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    profile = PrinterProfileManager(settings).get("shared")
    # each process's last update survives: neither overwrote the other with an older copy
    assert profile["name"] == "name-39" and profile["model"] == "model-39"
