"""Timelapse recordings of prints, as OctoPrint makes them.

``storage`` names and lists the files, ``recorder`` captures frames on its own thread,
``render`` turns them into videos with ffmpeg, ``service`` ties them to print events and the API.
"""

from .service import TimelapseError, TimelapseService

__all__ = ["TimelapseError", "TimelapseService"]
