"""``octoprint.server.util``."""
