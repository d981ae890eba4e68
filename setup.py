"""Build shim: everything about the package lives in pyproject.toml (PEP 517/621).

Its one job is to keep builds out of the source folder. setuptools otherwise writes ``build/`` and
``octohost.egg-info/`` next to the sources, which fails when the service user may not write to a
clone owned by someone else, and leaves stale copies behind. Here both go to a temporary folder
that is removed when the build step ends. New dependencies and extras go into pyproject.toml.
"""

import atexit
import shutil
import tempfile

from setuptools import setup

scratch = tempfile.mkdtemp(prefix="octohost-build-")
atexit.register(shutil.rmtree, scratch, ignore_errors=True)

setup(options={"build": {"build_base": scratch}, "egg_info": {"egg_base": scratch}})
