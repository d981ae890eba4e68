"""``octoprint.schema.webcam``: the models a ``WebcamProviderPlugin`` describes its cameras with.

Field names and defaults as OctoPrint 1.11's; octohost reads them by attribute
(:mod:`octohost.webcams`), so plain objects with these attributes work as well.
"""

from enum import Enum

from octoprint.schema import BaseModel


class RatioEnum(str, Enum):
    sixteen_nine = "16:9"
    four_three = "4:3"


class WebcamCompatibility(BaseModel):
    streamTimeout: int = 5
    streamRatio: RatioEnum = RatioEnum.sixteen_nine
    streamWebrtcIceServers: list[str] = ["stun:stun.l.google.com:19302"]
    cacheBuster: bool = False
    stream: str
    snapshot: str | None = None
    snapshotTimeout: int = 5
    snapshotSslValidation: bool = True


class Webcam(BaseModel):
    name: str
    displayName: str
    canSnapshot: bool = False
    snapshotDisplay: str | None = None
    flipH: bool = False
    flipV: bool = False
    rotate90: bool = False
    extras: dict = {}
    compat: WebcamCompatibility | None = None
