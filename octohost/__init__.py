"""octohost: a host daemon for one 3D printer, in the OctoPrint mould."""

__version__ = "0.1.0"
