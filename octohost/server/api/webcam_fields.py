"""The ``webcam`` section of ``/api/settings`` in OctoPrint 1.11's shape, and what a POST of it means.

octohost keeps its webcam settings flat (the ``classic`` camera's URLs and orientation, more
cameras in ``cameras``, the timelapse options); OctoPrint clients read the default camera's
``streamUrl``/``snapshotUrl``/..., ``webcams`` (every camera as OctoPrint's ``Webcam`` model with
its provider), ``ffmpegPath`` and ``ffmpegCommandline``. A client that posts the section back as it
read it changes nothing it did not mean to: the read-only keys are dropped and the aliases mapped.
"""

from octohost.webcams import CameraConfigError, Webcams, check_cameras

#: OctoPrint's names for octohost's settings (they answer under both)
ALIASES = {"streamUrl": "stream", "snapshotUrl": "snapshot", "ffmpegPath": "ffmpeg"}
#: answered, never stored
READ_ONLY = ("webcams", "ffmpegCommandline", "streamWebrtcIceServers")
#: what octohost runs (no shell, no template: the arguments are built, see octohost.timelapse.render)
COMMANDLINE = ('{ffmpeg} -framerate {fps} -i "{input}" -vcodec {videocodec} -threads {threads} -b:v {bitrate} '
               '-f {containerformat} -y {filters} "{output}"')


def octoprint_view(section: dict, webcams: Webcams) -> dict:
    """``section`` (the effective ``webcam`` settings) with OctoPrint's keys added."""
    default = webcams.default()
    snapshot = webcams.snapshot_camera()
    section.update({"ffmpegPath": section.get("ffmpeg"), "ffmpegCommandline": COMMANDLINE,
                    "webcams": [camera.as_dict() for camera in webcams.all()],
                    "defaultWebcam": default.name if default else None,
                    "snapshotWebcam": snapshot.name if snapshot else None})
    if default is None:
        section.update({key: None for key in ("streamUrl", "snapshotUrl", "streamWebrtcIceServers")})
        return section
    compat = default.as_dict()["compat"] or {}
    section.update({"flipH": default.flip_h, "flipV": default.flip_v, "rotate90": default.rotate90,
                    "streamUrl": compat.get("stream"), "streamRatio": compat.get("streamRatio"),
                    "streamTimeout": compat.get("streamTimeout"),
                    "streamWebrtcIceServers": compat.get("streamWebrtcIceServers"),
                    "snapshotUrl": compat.get("snapshot"), "snapshotTimeout": compat.get("snapshotTimeout"),
                    "snapshotSslValidation": compat.get("snapshotSslValidation"),
                    "cacheBuster": compat.get("cacheBuster")})
    return section


def accept_post(section: dict) -> None:
    """Turn a posted ``webcam`` section into octohost's settings in place; ValueError when
    ``cameras`` is not a valid list of cameras."""
    for key in READ_ONLY:
        section.pop(key, None)
    for alias, key in ALIASES.items():
        if alias in section:
            value = section.pop(alias)
            section.setdefault(key, "" if value is None and key != "ffmpeg" else value)
    if "cameras" in section:
        try:
            check_cameras(section["cameras"])
        except CameraConfigError as exc:
            raise ValueError(str(exc)) from None
