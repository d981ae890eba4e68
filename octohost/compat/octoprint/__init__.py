"""The modules of the ``octoprint`` compatibility package; imported as ``octoprint.*`` only.

See ``octoprint/__init__.py`` at the top of the source tree: it points its ``__path__`` here.
"""

if __name__ != "octoprint":
    raise ImportError("import these modules as octoprint.*, not as octohost.compat.octoprint.*")
