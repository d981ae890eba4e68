"""What a bug report needs: versions, platform and hardware, settings with secrets masked, logs.

:func:`systeminfo` is a flat ``{"dotted.key": value}`` mapping in the shape of OctoPrint's
``/api/system/info`` (``octoprint.version`` becomes ``octohost.version``; ``env.*`` keep
OctoPrint's names so tools that read them keep working). :func:`write_bundle` writes the zip a
user attaches to a report: ``systeminfo.txt``, ``settings.yaml`` (every value whose key names a
secret replaced by ``<masked>``), ``plugins.txt``, the tails of ``octohost.log`` and
``serial.log``, and whatever bundled plugins add through the hook reference's
``systeminfo.additional_bundle_files`` (third-party plugins are ignored there, as in OctoPrint,
so they cannot blow up a bundle).
"""

from __future__ import annotations

import datetime
import logging
import os
import platform
import re
import sys
import zipfile
from collections.abc import Callable
from typing import IO, Any

import yaml

from octohost import __version__

log = logging.getLogger(__name__)

SECRET_KEY = re.compile(r"(?i)(pass(word)?|secret|token|apikey|api_key|key$|credential|private)")
MASK = "<masked>"
#: how much of each log goes into a bundle (its end: the recent part)
LOG_TAIL_BYTES = 2 * 1024 * 1024
SERIAL_LOG_TAIL_BYTES = 512 * 1024
ADDITIONAL_FILE_BYTES = 4 * 1024 * 1024


def mask_secrets(tree: Any, key: str = "") -> Any:
    """A copy of ``tree`` with the values under secret-looking keys masked (non-empty ones)."""
    if isinstance(tree, dict):
        return {k: (MASK if SECRET_KEY.search(str(k)) and v not in (None, "", [], {}) and not isinstance(v, dict)
                    else mask_secrets(v, str(k))) for k, v in tree.items()}
    if isinstance(tree, list):
        return [mask_secrets(v, key) for v in tree]
    return tree


def _read_first_line(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline().strip("\x00\n ") or None
    except OSError:
        return None


def _memory_total() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return None


def _os_release() -> dict[str, str]:
    try:
        return platform.freedesktop_os_release()
    except OSError:
        return {}


def systeminfo(settings: Any, printer: Any = None, plugin_manager: Any = None,
               extra: dict[str, Any] | None = None) -> dict[str, Any]:
    release = _os_release()
    info: dict[str, Any] = {
        "octohost.version": __version__,
        "octohost.basedir": settings.basedir,
        "env.os.id": release.get("ID", sys.platform),
        "env.os.name": release.get("PRETTY_NAME", platform.system()),
        "env.os.platform": sys.platform,
        "env.os.kernel": platform.release(),
        "env.os.bits": 64 if sys.maxsize > 2**32 else 32,
        "env.hardware.cores": os.cpu_count(),
        "env.hardware.machine": platform.machine(),
        "env.hardware.ram": _memory_total(),
        "env.python.version": platform.python_version(),
        "env.python.implementation": platform.python_implementation(),
        "env.python.executable": sys.executable,
        "env.python.virtualenv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        "systeminfo.generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    model = _read_first_line("/proc/device-tree/model")
    if model:
        info["env.plugins.pi_support.model"] = model
    throttled = _read_first_line("/sys/devices/platform/soc/soc:firmware/get_throttled")
    if throttled:
        info["env.plugins.pi_support.throttle_state"] = throttled
    if printer is not None:
        try:
            get_firmware = getattr(printer, "get_firmware_info", None)
            firmware = get_firmware() if callable(get_firmware) else None
            if isinstance(firmware, dict) and firmware.get("name"):
                info["printer.firmware"] = firmware["name"]
            info["printer.state"] = printer.get_state_id()
        except Exception:  # diagnostics must come out even when the printer side is broken
            log.exception("could not read the printer's state for the system info")
    if plugin_manager is not None:
        info["octohost.plugins"] = len(plugin_manager.enabled_plugins())
    for key, value in (extra or {}).items():
        info.setdefault(key, value)
    return info


def bundle_name(now: datetime.datetime | None = None) -> str:
    return f"octohost-systeminfo-{(now or datetime.datetime.now()).strftime('%Y%m%d%H%M%S')}.zip"


def _tail(path: str, size: int) -> bytes | None:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            f.seek(max(0, end - size))
            data = f.read(size)
    except OSError:
        return None
    if end > size:  # started mid-line: drop the partial first line
        data = b"[... earlier lines left out ...]\n" + data.split(b"\n", 1)[-1]
    return data


def _additional_files(plugin_manager: Any) -> list[tuple[str, str | Callable[[], Any]]]:
    files: list[tuple[str, str | Callable[[], Any]]] = []
    if plugin_manager is None:
        return files
    bundled = {info.identifier for info in plugin_manager.enabled_plugins() if info.bundled}
    for identifier, result in plugin_manager.call("systeminfo.additional_bundle_files"):
        if identifier not in bundled:
            log.debug("plugin %s is not bundled: its systeminfo.additional_bundle_files are ignored", identifier)
            continue
        if not isinstance(result, dict):
            continue
        for name, content in result.items():
            if isinstance(name, str) and name and "/" not in name and name not in ("systeminfo.txt", "settings.yaml"):
                files.append((name, content))
    return files


def write_bundle(out: IO[bytes], settings: Any, printer: Any = None, plugin_manager: Any = None,
                 extra: dict[str, Any] | None = None) -> None:
    """Write the diagnostics bundle as a zip to the binary file ``out``."""
    info = systeminfo(settings, printer, plugin_manager, extra)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("systeminfo.txt", "".join(f"{k}: {info[k]}\n" for k in sorted(info)))
        effective = mask_secrets(settings.effective())
        z.writestr("settings.yaml", yaml.safe_dump(effective, default_flow_style=False, sort_keys=True))
        if plugin_manager is not None:
            lines = [f"{p.identifier} {getattr(p, 'version', '') or ''} ({p.origin})"
                     for p in plugin_manager.enabled_plugins()]
            z.writestr("plugins.txt", "\n".join(sorted(lines)) + "\n")
        logs = settings.folder("logs")
        for name, size in (("octohost.log", LOG_TAIL_BYTES), ("serial.log", SERIAL_LOG_TAIL_BYTES)):
            data = _tail(os.path.join(logs, name), size)
            if data is not None:
                z.writestr(name, data)
        for name, content in _additional_files(plugin_manager):
            try:
                if isinstance(content, str):
                    data = _tail(content, ADDITIONAL_FILE_BYTES)
                    if data is not None:
                        z.writestr(name, data)
                elif callable(content):
                    value = content()
                    z.writestr(name, value if isinstance(value, bytes) else str(value).encode("utf-8"))
            except Exception:
                log.exception("could not add %s to the systeminfo bundle", name)
