"""Uploading to the printer's SD card: the ``printer.sdcardupload`` hook, else M28/M29 streaming."""

import logging
import os
import re

log = logging.getLogger(__name__)


def free_remote_name(filename, taken):
    """An 8.3 upper-case name for ``filename`` not in ``taken`` (firmware SD libraries need 8.3)."""
    base, ext = os.path.splitext(os.path.basename(filename))
    base = re.sub(r"[^A-Z0-9]", "", base.upper()) or "FILE"
    ext = (re.sub(r"[^A-Z0-9]", "", ext.upper())[:3]) or "GCO"
    taken = {name.upper() for name in taken}
    candidate = f"{base[:8]}.{ext}"
    counter = 1
    while candidate in taken:
        suffix = f"~{counter}"
        candidate = f"{base[:8 - len(suffix)]}{suffix}.{ext}"
        counter += 1
        if counter > 9999:
            raise ValueError(f"no free SD card name for {filename!r}")
    return candidate


def upload_via_hooks(plugin_manager, printer, filename, path, started, succeeded, failed):
    """The remote name from the first ``printer.sdcardupload`` handler that takes the upload, or None."""
    if plugin_manager is None:
        return None
    for plugin_id, handler in plugin_manager.handlers("printer.sdcardupload"):
        try:
            remote = handler(printer, filename, path, started, succeeded, failed)
        except Exception:
            log.exception("plugin %s raised in printer.sdcardupload; skipped", plugin_id)
            continue
        if remote:
            return remote
    return None
