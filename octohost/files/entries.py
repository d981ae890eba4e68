"""File and folder entries as the Files API shows them, built from a stat result and metadata.

Parts of the metadata that describe one version of a file (hash, analysis, slicer data,
thumbnails) are shown only while the file's size and mtime match the ``stamp`` they were made
for; print statistics, display name, links and plugins' keys belong to the path and always show.
"""

STORAGE = "local"

#: metadata keys the manager owns; plugins' additional metadata may not use them
RESERVED_KEYS = frozenset({
    "name", "display", "path", "type", "typePath", "origin", "size", "date", "hash", "stamp", "links",
    "analysis", "analysisError", "gcodeAnalysis", "slicer", "thumbnails", "prints", "history",
    "statistics", "children", "refs", "user",
})


def stamp(st):
    """What identifies one version of a file: ``[size, mtime_ns]``."""
    return [st.st_size, st.st_mtime_ns]


def is_current(md, st):
    return md.get("stamp") == stamp(st)


#: metadata that describes one version of a file and goes stale when the file changes
VERSION_KEYS = ("hash", "analysis", "analysisError", "slicer", "thumbnails")


def current_metadata(md, st):
    """``md`` without the version-specific keys if they were made for another version of the file."""
    if is_current(md, st):
        return md
    return {key: value for key, value in md.items() if key not in VERSION_KEYS}


def needs_analysis(md, st):
    """True if there is no result (or failure) for the file as it is now."""
    return not is_current(md, st) or ("analysis" not in md and "analysisError" not in md)


def folder_entry(path, name, st):
    return {"name": name, "display": name, "path": path, "type": "folder", "typePath": ["folder"],
            "origin": STORAGE, "date": int(st.st_mtime)}


def with_children(entry, children):
    """A folder entry with its children, their total size and their prints added up (as OctoPrint
    lists folders)."""
    entry["children"] = children
    entry["size"] = sum(child.get("size") or 0 for child in children)
    entry["prints"] = folder_prints(children)
    return entry


def folder_prints(children):
    """``{success, failure, last}`` over the children that were printed (``last``: the latest)."""
    prints = {"success": 0, "failure": 0}
    for child in children:
        counted = child.get("prints") or {}
        last = counted.get("last") or {}
        if last.get("date") is None:
            continue
        prints["success"] += counted.get("success", 0)
        prints["failure"] += counted.get("failure", 0)
        if "last" not in prints or last["date"] > prints["last"]["date"]:
            prints["last"] = last
    return prints


def file_entry(path, name, st, md, type_path):
    entry = {"name": name, "display": md.get("display") or name, "path": path, "type": type_path[0],
             "typePath": list(type_path), "origin": STORAGE, "size": st.st_size, "date": int(st.st_mtime)}
    if is_current(md, st):
        if md.get("hash"):
            entry["hash"] = md["hash"]
        if "analysis" in md:
            entry["gcodeAnalysis"] = md["analysis"]
        for key in ("slicer", "thumbnails"):
            if md.get(key):
                entry[key] = md[key]
    for key in ("prints", "statistics", "links", "user"):
        if md.get(key):
            entry[key] = md[key]
    for key, value in md.items():
        if key not in RESERVED_KEYS:
            entry[key] = value
    return entry
