"""``/api/system/commands``: the built-in restart/shutdown actions (only where a command is
configured under ``server.commands``) plus the plugins' ``system.additional_commands``.

As in OctoPrint 1.11.8: ``core`` lists shutdown, reboot, restart and restart_safe (the restart
command after setting ``server.startOnceInSafeMode``, so the next start loads no third-party
plugin); ``plugin`` lists the plugins' commands as ``<plugin>:<action>``; ``custom`` (OctoPrint's
``system.actions``) is empty, octohost has no such setting.
"""

import functools
import logging
import re
import subprocess
import threading

from flask import Blueprint, jsonify, url_for

from .util import ApiError, ctx, no_content, requires

log = logging.getLogger(__name__)
blueprint = Blueprint("system", __name__)

CORE_COMMANDS = (
    ("shutdown", "Shutdown system", "systemShutdownCommand", "You are about to shut down the system."),
    ("reboot", "Reboot system", "systemRestartCommand", "You are about to reboot the system."),
    ("restart", "Restart OctoPrint", "serverRestartCommand", "You are about to restart the server."),
    ("restart_safe", "Restart OctoPrint in safe mode", "serverRestartCommand",
     "You are about to restart the server in safe mode (third-party plugins are not loaded)."),
)
SOURCES = ("core", "custom", "plugin")
ACTION_RE = re.compile(r"^[a-z0-9_-]+$")


def _core():
    settings = ctx().settings
    commands = []
    for action, name, key, confirm in CORE_COMMANDS:
        command = settings.get(f"server.commands.{key}")
        if command:
            commands.append({"action": action, "name": name, "command": command, "confirm": confirm,
                             "async": True, "ignore": True, "source": "core"})
            if action == "restart_safe":  # runs on the command's thread, outside the request: bound now
                commands[-1]["before"] = functools.partial(settings.set, "server.startOnceInSafeMode", True)
    return commands


def _plugin():
    commands = []
    for identifier, result in ctx().plugin_manager.call("system.additional_commands"):
        for entry in result or []:
            if (isinstance(entry, dict) and isinstance(entry.get("action"), str) and ACTION_RE.match(entry["action"])
                    and isinstance(entry.get("command"), str) and entry.get("name")):
                commands.append(dict(entry, source="plugin", plugin=identifier,
                                     action=f"{identifier.lower()}:{entry['action']}"))
            else:
                log.warning("plugin %s returned an invalid system command %r; skipped", identifier, entry)
    return commands


def _commands(source):
    return {"core": _core, "plugin": _plugin, "custom": list}[source]()


def _public(entry):
    out = {k: v for k, v in entry.items() if k in ("action", "name", "confirm", "async", "ignore", "source")}
    out["resource"] = url_for("system.run", source=entry["source"], action=entry["action"], _external=True)
    return out


@blueprint.route("/api/system/commands")
@requires("SYSTEM")
def list_commands():
    return jsonify({source: [_public(c) for c in _commands(source)] for source in SOURCES})


@blueprint.route("/api/system/commands/<source>")
@requires("SYSTEM")
def list_source(source):
    if source not in SOURCES:
        raise ApiError(404, f"Unknown command source: {source}")
    return jsonify([_public(c) for c in _commands(source)])


def _execute(entry):
    before = entry.get("before")
    try:
        if callable(before):
            before()
        result = subprocess.run(entry["command"], shell=True, capture_output=True, timeout=600)
    except Exception as exc:
        log.warning("system command %s/%s failed: %s", entry["source"], entry["action"], exc)
        if entry.get("ignore"):
            return None
        return str(exc)
    if result.returncode != 0 and not entry.get("ignore"):
        return f"command exited with {result.returncode}: {result.stderr.decode(errors='replace')[-500:]}"
    return None


@blueprint.route("/api/system/commands/<source>/<action>", methods=["POST"])
@requires("SYSTEM")
def run(source, action):
    if source not in SOURCES:
        raise ApiError(404, f"Unknown command source: {source}")
    entry = next((c for c in _commands(source) if c["action"] == action), None)
    if entry is None:
        raise ApiError(404, f"Unknown command: {source}/{action}")
    log.info("running system command %s/%s", source, action)
    if entry.get("async"):
        threading.Thread(target=_execute, args=(entry,), name=f"system-{action}", daemon=True).start()
        return no_content()
    error = _execute(entry)
    if error:
        raise ApiError(500, f"Command {action} failed: {error}")
    return no_content()
