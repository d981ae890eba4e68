"""``octoprint.util.version``: the running API level and version comparisons."""

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version


def get_octoprint_version_string():
    import octoprint

    return octoprint.__version__


def get_comparable_version(version_string, cut=None, **kwargs):
    try:
        version = Version(str(version_string))
    except InvalidVersion:
        return None
    if cut:
        parts = version.release[: max(len(version.release) - int(cut), 1)]
        version = Version(".".join(str(p) for p in parts))
    return version


def get_octoprint_version(cut=None, **kwargs):
    return get_comparable_version(get_octoprint_version_string(), cut=cut)


def is_octoprint_compatible(*compatibility_entries, **kwargs):
    """True when the API level satisfies any of the entries (``>=1.4``, ``1.5.x``, ...)."""
    if not compatibility_entries:
        return True
    version = kwargs.get("octoprint_version") or get_octoprint_version()
    for entry in compatibility_entries:
        entry = str(entry).strip()
        if entry.endswith(".x"):
            entry = f"=={entry[:-2]}.*"
        elif entry[:1].isdigit():
            entry = f">={entry}"
        try:
            if version in SpecifierSet(entry):
                return True
        except InvalidSpecifier:
            continue
    return False


def is_python_compatible(compat, **kwargs):
    import platform

    try:
        return Version(platform.python_version()) in SpecifierSet(compat)
    except InvalidSpecifier:
        return False
