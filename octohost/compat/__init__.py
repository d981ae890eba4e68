"""Compatibility with OctoPrint's plugin API (issue #16), kept apart from octohost's own plugin seam.

- ``octohost/compat/octoprint/``: the modules plugins import as ``octoprint.*``;
- :mod:`.discovery`: ``octoprint.plugin`` entry points and OctoPrint's load rules;
- :mod:`.layer`: what such a plugin gets injected (its settings slice, a plugin manager with
  OctoPrint's methods) and the lifecycle calls octohost's own seam does not make.
"""
