"""``octoprint_setuptools``: what an OctoPrint plugin's ``setup.py`` imports to build its package.

Plugins made from OctoPrint's older plugin template call
``create_plugin_setup_parameters(identifier=..., package=..., requires=[...])`` and pass the result
to ``setuptools.setup``; OctoPrint ships the helper in its own distribution. octohost provides it
here so those plugins install into octohost's environment, as OctoPrint installs them, with
``pip install --use-pep517 --no-build-isolation`` (an isolated build would not see this module).

One difference, on purpose: the requirement on the ``OctoPrint`` distribution that OctoPrint adds
is left out (octohost provides the ``octoprint`` package; OctoPrint itself must not be installed
beside it), so such a plugin installs without ``--no-deps`` and gets its other requirements.
The babel commands (``babel_extract`` and friends) of OctoPrint's helper are for plugin authors
and are not offered.
"""

import os
import re

#: the distribution OctoPrint puts first in every plugin's requirements; octohost stands in for it
OCTOPRINT_DISTRIBUTION = "octoprint"


def package_data_dirs(source, sub_folders):
    """Every file below ``source/<sub folder>``, relative to ``source`` (for ``package_data``)."""
    found = []
    for sub in sub_folders:
        folder = os.path.join(source, sub)
        if not os.path.exists(folder):
            continue
        for dirname, _, files in os.walk(folder):
            relative = os.path.relpath(dirname, source)
            found.extend(os.path.join(relative, name) for name in files)
    return found


def _requirement_name(requirement):
    return re.split(r"[\s<>=!~;\[(@]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def has_requirement(requirement, requirements):
    """Whether ``requirements`` names the distribution ``requirement`` (any version)."""
    if requirement is None or requirements is None:
        return False
    wanted = _requirement_name(requirement)
    return any(_requirement_name(r) == wanted for r in requirements)


def get_babel_commandclasses(*args, **kwargs):
    """OctoPrint's translation commands for plugin authors; none here."""
    return {}


def create_plugin_setup_parameters(identifier="todo", name="TODO", version="0.1", description="TODO",
                                   author="TODO", mail="todo@example.com", url="TODO", license="AGPLv3",
                                   source_folder=".", additional_data=None, additional_packages=None,
                                   ignored_packages=None, requires=None, extra_requires=None, cmdclass=None,
                                   eggs=None, package=None, dependency_links=None):
    """``setuptools.setup`` keyword arguments for a plugin package, as OctoPrint's helper builds
    them: the package and its sub-packages, its ``static``/``templates``/``translations`` files and
    the ``octoprint.plugin`` entry point ``identifier = package``."""
    from setuptools import find_packages

    package = package or f"octoprint_{identifier}"
    for argument, value, kind in (("requires", requires, list), ("extra_requires", extra_requires, dict),
                                  ("cmdclass", cmdclass, dict), ("eggs", eggs, list)):
        if value is not None and not isinstance(value, kind):
            raise ValueError(f"{argument} must be a {kind.__name__}")
    requires = [r for r in (requires or []) if _requirement_name(r) != OCTOPRINT_DISTRIBUTION]
    sub_packages = [p for p in find_packages(where=source_folder, exclude=ignored_packages or [])
                    if p.startswith(package + ".")]
    data_folders = ["static", "templates", "translations"] + list(additional_data or [])
    return {
        "name": name,
        "version": version,
        "description": description,
        "author": author,
        "author_email": mail,
        "url": url,
        "license": license,
        "cmdclass": dict(cmdclass or {}),
        "packages": sorted({package, *sub_packages, *(additional_packages or [])}),
        "package_data": {package: package_data_dirs(os.path.join(source_folder, package), data_folders)},
        "include_package_data": True,
        "zip_safe": False,
        "install_requires": requires,
        "extras_require": dict(extra_requires or {}),
        "dependency_links": list(dependency_links or []),
        "entry_points": {"octoprint.plugin": [f"{identifier} = {package}"]},
    }
