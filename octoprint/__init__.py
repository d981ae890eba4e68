"""``octoprint``: OctoPrint's plugin API as octohost provides it, so plugins from PyPI import unchanged.

This package is a shell: its submodules live in ``octohost/compat/octoprint/`` (kept apart from
octohost's own plugin seam) and are imported as ``octoprint.*`` only, so a class such as
``octoprint.plugin.SettingsPlugin`` exists once. Do not install OctoPrint itself beside octohost:
both provide this top-level name.
"""

import os as _os

import octohost.compat as _compat

__path__ = [_os.path.join(_os.path.dirname(_compat.__file__), "octoprint")]

#: the OctoPrint API level this layer follows (plugins compare it with ``util.version``)
__version__ = "1.11.8"
__display_version__ = __version__
