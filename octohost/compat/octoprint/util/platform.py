"""``octoprint.util.platform``."""

import sys

CLOSE_FDS = True


def get_os():
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return "unmapped"


OPERATING_SYSTEM_UNMAPPED = "unmapped"


def is_os_compatible(compatibility_entries, current_os=None):
    if not compatibility_entries:
        return True
    current_os = current_os or get_os()
    return current_os in compatibility_entries or ("!" + current_os) not in compatibility_entries and all(
        e.startswith("!") for e in compatibility_entries)
