"""Finding OctoPrint plugins: the ``octoprint.plugin`` entry points of installed distributions.

OctoPrint's rules: the identifier is the entry point's name (``fixcbdfirmware``), not the module's;
a module that does not declare ``__plugin_pythoncompat__`` is taken to be Python 2 only
(``>=2.7,<3``) and is refused, naming the flag, as OctoPrint refuses it, unless its identifier is
in the setting ``plugins._forcedCompatible`` (OctoPrint's escape hatch for plugins that predate
the flag but run on Python 3).
"""

import importlib.metadata
import logging
import platform

from octohost.plugin.loader import Candidate

ENTRY_POINT_GROUP = "octoprint.plugin"
ORIGIN = "octoprint"
DEFAULT_PYTHONCOMPAT = ">=2.7,<3"

log = logging.getLogger(__name__)


class IncompatiblePlugin(Exception):
    pass


def check_pythoncompat(module, python_version=None):
    """Raise :class:`IncompatiblePlugin` unless the module's ``__plugin_pythoncompat__`` allows us."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet  # only once a plugin is found
    from packaging.version import Version

    compat = getattr(module, "__plugin_pythoncompat__", DEFAULT_PYTHONCOMPAT)
    version = Version(python_version or platform.python_version())
    try:
        allowed = version in SpecifierSet(str(compat))
    except InvalidSpecifier:
        raise IncompatiblePlugin(f"__plugin_pythoncompat__ {compat!r} is not a version specifier") from None
    if not allowed:
        raise IncompatiblePlugin(f"__plugin_pythoncompat__ is {compat!r}, which excludes Python {version}")


def _importer(entry_point, forced_compatible=False):
    def load():
        module = entry_point.load()
        if forced_compatible:
            log.warning("plugin %s: its __plugin_pythoncompat__ is not checked (plugins._forcedCompatible)",
                        entry_point.name)
        else:
            check_pythoncompat(module)
        dist = getattr(entry_point, "dist", None)
        if getattr(module, "__plugin_version__", None) is None and dist is not None:
            module.__plugin_version__ = dist.version  # OctoPrint's fallback: the distribution's version
        return module

    return load


def candidates(settings=None, group=ENTRY_POINT_GROUP):
    """One :class:`Candidate` per entry point (first one wins per name, as distributions are listed);
    ``settings`` (octohost's store) names the plugins forced compatible."""
    forced = set(settings.get("plugins._forcedCompatible") or []) if settings is not None else set()
    out, seen = [], set()
    for ep in importlib.metadata.entry_points(group=group):
        if ep.name in seen:
            continue
        seen.add(ep.name)
        dist = getattr(ep, "dist", None)
        path = f"{dist.name if dist else '?'}:{ep.value}"
        out.append(Candidate(ep.name, ORIGIN, path, _importer(ep, ep.name in forced)))
    return out
