"""Compare two HTTP answers by shape: status, kind of body, JSON key sets and value types.

Values themselves are not compared (times, temperatures, keys and sizes differ between two
servers); what a client depends on is that a key is there and has the type it expects. Every
difference is one line ``WHAT [WHO] @PHASE: DETAIL``, which the allowlist
(octoprint_allowlist.yaml) matches with patterns in which ``*`` stands for any text (and nothing
else is special, so ``[admin]`` and ``[name=x]`` are literal).
"""

import re
from pathlib import Path

import yaml

ALLOWLIST = Path(__file__).with_name("octoprint_allowlist.yaml")
#: addition: octohost answers more (documented); octoprint-bug: OctoPrint's answer is wrong and not
#: copied; not-offered: an OctoPrint feature octohost does not have; deliberate: a different default
#: chosen on purpose (documented); harness: how the two servers are set up, not how they answer;
#: not-yet-fixed: a real difference still to fix (issue #15 open)
KINDS = {"addition", "octoprint-bug", "not-offered", "deliberate", "harness", "not-yet-fixed"}

#: list elements are paired by the first of these keys both have (order differs between servers)
_LIST_KEYS = ("name", "key", "id", "path", "origin")


def type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def body_kind(response):
    if not response.content:
        return "empty"
    ctype = response.headers.get("Content-Type", "").split(";")[0].strip()
    if ctype == "application/json":
        try:
            response.json()
        except ValueError:
            return "bad-json"
        return "json"
    if ctype.startswith("text/html"):
        return "html"
    return ctype or "unknown"


def _pair(ours, theirs):
    """Pairs of list elements to compare: by a shared identifying key, else by position (the first)."""
    if ours and theirs and all(isinstance(x, dict) for x in ours + theirs):
        for key in _LIST_KEYS:
            if all(key in x for x in ours + theirs):
                mine = {str(x[key]): x for x in ours}
                other = {str(x[key]): x for x in theirs}
                common = sorted(set(mine) & set(other))
                if common:
                    return [(f"[{key}={name}]", mine[name], other[name]) for name in common]
    if ours and theirs:
        return [("[0]", ours[0], theirs[0])]
    return []


def shape_differences(ours, theirs, path="$"):
    """Differences between two JSON values, as ``PATH: DETAIL`` lines (octohost first)."""
    a, b = type_name(ours), type_name(theirs)
    if a != b:
        return [f"{path}: type {a} != {b}"]
    found = []
    if a == "object":
        for key in sorted(set(ours) | set(theirs), key=str):
            where = f"{path}.{key}"
            if key not in theirs:
                found.append(f"{where}: only octohost")
            elif key not in ours:
                found.append(f"{where}: only octoprint")
            else:
                found.extend(shape_differences(ours[key], theirs[key], where))
    elif a == "list":
        for label, x, y in _pair(ours, theirs):
            found.extend(shape_differences(x, y, path + label))
    return found


def response_differences(ours, theirs):
    """DETAIL lines for two ``requests`` responses."""
    if ours.status_code != theirs.status_code:
        return [f"status {ours.status_code} != {theirs.status_code}"]
    kinds = body_kind(ours), body_kind(theirs)
    if kinds[0] != kinds[1]:
        return [f"body {kinds[0]} != {kinds[1]}"]
    if kinds[0] == "json":
        if ours.status_code >= 400:
            return []  # both errors with a JSON body: the message text is free
        return shape_differences(ours.json(), theirs.json())
    return []


class Allowlist:
    """The allowlist file: entries ``{match, kind, reason}``; a difference no entry matches fails."""

    def __init__(self, path=ALLOWLIST):
        self.entries = yaml.safe_load(Path(path).read_text()) or []
        for entry in self.entries:
            problems = [k for k in ("match", "kind", "reason") if not entry.get(k)]
            if problems or entry["kind"] not in KINDS:
                raise ValueError(f"allowlist entry {entry!r}: needs match, reason and kind in {sorted(KINDS)}")
            entry["regex"] = re.compile(".*".join(re.escape(part) for part in entry["match"].split("*")) + r"\Z")
        self.used = set()

    def allowed(self, difference):
        for index, entry in enumerate(self.entries):
            if entry["regex"].match(difference):
                self.used.add(index)
                return entry
        return None

    def unused(self):
        return [entry for index, entry in enumerate(self.entries) if index not in self.used]

    def not_yet_fixed(self):
        return [entry for entry in self.entries if entry["kind"] == "not-yet-fixed"]
