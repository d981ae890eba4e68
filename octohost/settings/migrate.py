"""The base folder's format version, and the steps that bring an older base folder up to date.

``config.yaml`` carries ``_config_version`` (OctoPrint's name for it): the format of the base
folder's files that wrote it. A file without one predates versioning (format 0). When a newer
octohost starts on an older base folder, :func:`migrate_settings_file` runs each :class:`Step`
from the file's version up to :data:`CURRENT`, in order, under the file's lock, after copying every
file a step changes to ``<file>.v<old version>.bak`` (an existing backup is never overwritten);
then it writes the migrated file with the new version. A base folder written by a *newer*
octohost is refused with a message instead of being read wrongly or rewritten in an older shape.

Format 1 is the first versioned format and changed nothing, so step 1 only records the version.
A later change of format adds a step here: a function of the settings tree and one of the users
mapping, each returning the new value; a test runs it on the old shape.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from octohost.util.fs import atomic_write
from octohost.util.shared_file import SharedFile

log = logging.getLogger(__name__)

VERSION_KEY = "_config_version"


@dataclasses.dataclass(frozen=True)
class Step:
    """Brings a base folder from format ``version - 1`` to ``version``."""

    version: int
    description: str
    settings: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    users: Callable[[dict[str, Any]], dict[str, Any]] | None = None


STEPS: tuple[Step, ...] = (
    Step(1, "record the base folder's format version"),
)
CURRENT = STEPS[-1].version


class MigrationError(ValueError):
    """The base folder cannot be brought up to date (newer format, unreadable file)."""


def file_version(tree: dict[str, Any]) -> int:
    version = tree.get(VERSION_KEY, 0)
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise MigrationError(f"{VERSION_KEY} must be a whole number >= 0, not {version!r}")
    return version


def _read_yaml(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except FileNotFoundError:
        return None
    except (OSError, yaml.YAMLError):
        return None  # the settings loader reports an unreadable file, with its line and column


def _keep_backup(path: str, version: int) -> None:
    backup = f"{path}.v{version}.bak"
    if os.path.exists(path) and not os.path.exists(backup):
        shutil.copy2(path, backup)
        log.info("kept %s as %s before migrating it", path, backup)


def migrate_settings_file(config_path: str, users_path: str | None = None, keep_backup: bool = True,
                          steps: Sequence[Step] = STEPS) -> int:
    """Bring ``config_path`` (and ``users_path``) to the newest format; returns the version found.

    Does nothing to a file that is missing, empty or already current; raises MigrationError for a
    newer format than ``steps`` know and leaves the files untouched then."""
    newest = steps[-1].version if steps else 0
    shared = SharedFile(config_path)
    with shared.locked():
        tree = _read_yaml(config_path)
        if not isinstance(tree, dict):
            return newest  # nothing written yet (or not a mapping: the settings loader says so)
        found = file_version(tree)
        if found > newest:
            raise MigrationError(f"{config_path} was written by a newer octohost (format {found}; this one "
                                 f"knows up to {newest}): upgrade octohost, or restore a backup made by this version")
        pending = [step for step in steps if step.version > found]
        if not any(step.settings or step.users for step in pending):
            return found  # nothing to change: the next save records the version
        changes_users = users_path is not None and any(step.users for step in pending)
        users = _read_yaml(users_path) if changes_users and users_path else None
        for step in pending:
            log.info("migrating %s from format %d to %d: %s", config_path, step.version - 1, step.version,
                     step.description)
            if step.settings:
                tree = step.settings(tree)
            if step.users and isinstance(users, dict):
                users = step.users(users)
        tree[VERSION_KEY] = newest
        if keep_backup:
            _keep_backup(config_path, found)
        if changes_users and users_path and isinstance(users, dict):
            if keep_backup:
                _keep_backup(users_path, found)
            with SharedFile(users_path).locked():
                atomic_write(users_path, yaml.safe_dump(users, default_flow_style=False, sort_keys=True), mode=0o600)
        atomic_write(config_path, yaml.safe_dump(tree, default_flow_style=False, sort_keys=True, allow_unicode=True),
                     mode=0o600)
        return found
