"""``octoprint.server``: the names plugins import from OctoPrint's server package."""

NO_CONTENT = ("", 204, {"Content-Type": "text/plain"})
