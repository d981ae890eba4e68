"""Plugins bundled with octohost; loaded through the same path as third-party ones."""
