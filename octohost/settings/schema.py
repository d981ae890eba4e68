"""Every setting octohost knows, with its default, its type and a one-line comment.

This is the one place defaults live. ``config.yaml`` holds only what differs from them, and
``config.yaml.example`` is generated from this tree (a test keeps the two in step).
Sections marked ``open`` accept keys that are not declared here (per-plugin settings).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


class Setting:
    """A leaf: default value, accepted types, one-line help, optional choices and numeric range."""

    __slots__ = ("default", "types", "help", "choices", "nullable", "item_type", "minimum", "maximum")

    def __init__(self, default: Any, help: str, types: tuple[type, ...] | None = None,
                 choices: Sequence[Any] | None = None, nullable: bool = False, item_type: type | None = None,
                 minimum: float | None = None, maximum: float | None = None) -> None:
        self.default = default
        self.help = help
        if types is None:
            types = _infer_types(default)
        self.types = types
        self.choices = choices
        self.nullable = nullable or default is None
        self.item_type = item_type
        self.minimum = minimum
        self.maximum = maximum

    def describe(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
                 list: "a list", dict: "a mapping"}
        kind = " or ".join(names.get(t, t.__name__) for t in self.types)
        if self.item_type is not None:
            kind += " of " + names.get(self.item_type, self.item_type.__name__).split(" ", 1)[1] + "s"
        if self.minimum is not None:
            kind += f" from {self.minimum} to {self.maximum}"
        return kind + (" or null" if self.nullable else "")


class Section(dict[str, "Setting | Section"]):
    """A mapping of names to Settings or Sections; ``open`` sections accept undeclared keys."""

    def __init__(self, help: str = "", open: bool = False, **children: Setting | Section) -> None:
        super().__init__(children)
        self.help = help
        self.open = open


def _infer_types(default: Any) -> tuple[type, ...]:
    if isinstance(default, bool):
        return (bool,)
    if isinstance(default, float):
        return (float, int)
    if isinstance(default, int):
        return (int,)
    if isinstance(default, str):
        return (str,)
    if isinstance(default, list):
        return (list,)
    if isinstance(default, dict):
        return (dict,)
    return (str,)


S = Setting

SCHEMA = Section(
    server=Section(
        "The web server.",
        host=S("0.0.0.0", "Address to listen on (0.0.0.0: every interface, so other machines can reach the UI)."),
        port=S(5000, "TCP port of the web UI and API."),
        maxUploadSize=S(1024 * 1024 * 1024 * 2, "Largest upload accepted, in bytes; larger ones get HTTP 413."),
        uploadRateWhilePrinting=S(16, "Upload speed cap in MiB/s while printing, so uploads never slow a print; "
                                      "0: no cap."),
        workerThreads=S(8, "Threads that run REST API views, so none blocks the event loop."),
        idleConnectionTimeout=S(60.0, "Seconds a connection may take to send a request's headers, or stay idle between"
                                      " requests, before it is closed; 0: an hour."),
        bodyTimeout=S(60.0, "Seconds an API request's body may take to arrive; uploads instead may stall at most this"
                            " long between pieces; 0: no limit."),
        maxHeaderSize=S(65536, "Largest request line and headers in bytes; a larger request is refused."),
        switchInterval=S(0.0002, "Seconds a thread waiting for Python's interpreter lock lets the holder run before "
                         "asking for it (sys.setswitchinterval; Python's default 0.005): short keeps the serial "
                         "loops' ok -> next line turnaround short while the web server is busy."),
        webNice=S(5, "How much lower the OS priority (nice) of the daemon's other threads (web server, push socket, "
                     "plugins) is than the serial loops', so a busy web side cannot delay the next line; 0: equal.",
                  minimum=0, maximum=19),
        secretKey=S(None, "Secret for session cookies; generated and stored on first start.", types=(str,)),
        allowCrossOrigin=S(False, "Answer CORS preflights so browser apps on other origins can call the API."),
        seenWizards=S({}, "OctoPrint plugins' wizards finished through /api/setup/wizard: identifier -> wizard "
                          "version (as OctoPrint's setting)."),
        push=Section(
            "The push socket (/sockjs) that the UI and apps keep open.",
            maxQueuedBytes=S(256 * 1024, "A client with more than this many bytes waiting for it (unread) for "
                                         "maxQueuedSeconds is dropped."),
            maxQueuedSeconds=S(10.0, "How long a client may stay more than maxQueuedBytes behind."),
        ),
        commands=Section(
            "Shell commands behind the built-in system actions; empty disables the action.",
            serverRestartCommand=S("", "Command that restarts octohost (e.g. 'sudo systemctl restart octohost')."),
            systemRestartCommand=S("", "Command that reboots the machine (e.g. 'sudo shutdown -r now')."),
            systemShutdownCommand=S("", "Command that shuts the machine down (e.g. 'sudo shutdown -h now')."),
        ),
        startOnceInSafeMode=S(False, "Start in safe mode (no third-party plugins) once, then clear this; set by the "
                                     "restart_safe system command."),
    ),
    serial=Section(
        "The connection to the printer.",
        port=S(None, "Port to connect to: a device path, socket:// or rfc2217:// URL, VIRTUAL, or null/AUTO to detect.",
               types=(str,)),
        baudrate=S(115200, "Baud rate; 0 detects it."),
        autoconnect=S(False, "Connect to the configured port when the server starts."),
        additionalPorts=S([], "Extra glob patterns of ports to list (e.g. /dev/printer*); "
                              "reported under the path given.", item_type=str),
        additionalBaudrates=S([], "Extra baud rates to offer.", item_type=int),
        log=S(False, "Write raw serial traffic to logs/serial.log (can be switched while running)."),
        realtime=S(True, "Run the serial loops under real-time scheduling (SCHED_FIFO, lowest priority) where the "
                         "system allows it (root, or the systemd unit's LimitRTPRIO=1), so a busy machine cannot delay "
                         "the next line; read at start. Off for several daemons on one host (their print starts "
                         "would all run ahead of everything else)."),
        lowLatency=S(False, "Ask the serial driver for low latency mode when opening a device (ASYNC_LOW_LATENCY, as "
                            "'setserial low_latency' does; OctoPrint's serial.lowLatency): FTDI adapters then use a "
                            "1 ms latency timer. Asked of device paths only; one that refuses it (a pseudo-terminal) "
                            "connects without it and says so in the log."),
        window=S("ping-pong", "How many lines may be in flight.", choices=["ping-pong", "rx-bytes", "advanced-ok"]),
        rxBufferSize=S(128, "Firmware receive buffer in bytes: the longest line sent (with line number and checksum), "
                            "and the bytes in flight in the rx-bytes window mode."),
        helloCommand=S("M110 N0",
                       "First command sent after opening the port, to reset line numbers and wake the firmware."),
        firmwareErrors=S("cancel", "What a firmware error does: cancel the print, disconnect, or ignore it.",
                         choices=["cancel", "disconnect", "ignore"]),
        resendHistory=S(256, "Lines kept for resend requests (at least the lines that can be in flight)."),
        maxResendsPerLine=S(16, "Resend requests for one line before giving up with an error (loop guard)."),
        longRunningCommands=S(["G4", "G28", "G29", "G30", "G32", "M190", "M109", "M116", "M400", "M226", "M600"],
                              "Commands that may take long without an ok; they do not count as timeouts.",
                              item_type=str),
        checksumRequiringCommands=S(["M110"], "Commands always sent with line number and checksum.", item_type=str),
        pausingCommands=S(["M0", "M1", "M25"], "Commands that pause a running print where they are met, from the "
                                               "file or from anyone (OctoPrint's list); they are still sent unless "
                                               "blocked.", item_type=str),
        blockedCommands=S(["M0", "M1"], "Commands never sent to the printer (a CommandSuppressed event and a "
                                        "terminal note instead): M0/M1 would wait for a button press on the printer.",
                          item_type=str),
        ignoredCommands=S([], "Commands quietly not sent (a CommandSuppressed event of severity info).",
                          item_type=str),
        emergencyCommands=S(["M112", "M108", "M410"],
                            "Commands sent at once, past the queue and the lines in flight, when the firmware "
                            "reports EMERGENCY_PARSER (M108 ends a heat-up wait, M410 stops moves); M112 is always "
                            "an emergency stop.", item_type=str),
        neverSendChecksum=S(False, "Send plain commands without line numbers and checksums."),
        autoreport=S(True, "Use M155/M27 S auto-reports when the firmware reports the capability."),
        timeout=Section(
            "Timeouts and poll intervals, in seconds.",
            connection=S(10.0, "Waiting for the firmware to answer after opening the port."),
            detection=S(1.0, "Per port and baud rate while auto-detecting."),
            communication=S(30.0, "No line from the printer for this long: send M105 to tickle it."),
            communicationBusy=S(3.0, "Like communication, once the firmware has sent keepalives ('busy: "
                                     "processing'): a silence this long is then a lost ok, not a busy firmware. "
                                     "A firmware with BUSY_PROTOCOL is asked (M113) to send them a second sooner."),
            temperature=S(5.0, "Temperature poll interval (M105) when idle or printing."),
            temperatureTargetSet=S(2.0, "Temperature poll interval while a target is set."),
            temperatureAutoreport=S(2, "Interval requested with M155 when the firmware auto-reports temperatures."),
            sdStatus=S(1.0, "SD status poll interval (M27) while printing from SD."),
            sdStatusAutoreport=S(1, "Interval requested with M27 S when the firmware auto-reports SD status."),
            resendOk=S(0.5, "After a resend request, how long to wait for the ok that belongs to it."),
            resendQuiet=S(0.1, "After a resend request with more lines in flight behind the rejected one: "
                               "seconds of silence after which those count as dropped (Marlin empties its "
                               "receive buffer after a bad line) and the resend starts."),
        ),
        maxCommunicationTimeouts=Section(
            "Consecutive timeouts before giving up with an error; 0 never gives up.",
            idle=S(2, "While idle."),
            printing=S(5, "While printing."),
            long=S(5, "While a long-running command runs."),
        ),
        driver=S("auto", "Connection driver by slug (GET /api/machine lists them: serial, network, virtual, plugin "
                         "drivers); auto: the one the port calls for."),
        driverSettings=S({}, "Settings of drivers that need more than port and baud rate: {slug: {key: value}}."),
        reconnect=Section(
            "Reconnecting by itself after an unplug, a firmware reset, a dropped socket or a dead line (never after "
            "a disconnect someone asked for).",
            enabled=S(True, "Reconnect by itself."),
            initialDelay=S(1.0, "Seconds before the first attempt; each failure multiplies it."),
            multiplier=S(2.0, "Factor between consecutive delays."),
            maxDelay=S(30.0, "Longest delay between attempts, in seconds."),
            jitter=S(0.2, "Random spread of each delay, as a fraction of it (0 to 1)."),
            failureThreshold=S(8, "Consecutive failures that open the circuit (no attempts for openSeconds); "
                                  "0: never."),
            openSeconds=S(60.0, "Seconds an open circuit waits before one probe attempt (half-open)."),
            stableSeconds=S(10.0, "A connection must stay up this long to count as a success (a flapping port "
                                  "keeps counting as failing)."),
        ),
        virtual=Section(
            "The built-in virtual printer (port VIRTUAL and `octohost virtual`): its firmware and the faults it "
            "injects.",
            seed=S(0, "Seed of the fault injection: the same seed and input give the same answers."),
            rxBufferSize=S(128, "Bytes of unacknowledged lines the firmware holds; a line beyond that is corrupted. "
                                "Null: unlimited.", nullable=True),
            okDelay=S(0.0, "Seconds before each ok (USB latency, slow firmware)."),
            checksumErrorRate=S(0.0, "Fraction of numbered lines answered with a checksum error and a resend request."),
            lostOkRate=S(0.0, "Fraction of oks silently dropped."),
            missingLineNumberRate=S(0.0, "Fraction of numbered lines answered with 'No Line Number with checksum'."),
            resetAfterLines=S(None, "Reset the firmware once after this many accepted lines.", types=(int,)),
            disconnectAfterLines=S(None, "Drop the connection after this many accepted lines.", types=(int,)),
            advancedOk=S(False, "Answer 'ok N<line> P<planner free> B<buffer free>' (ADVANCED_OK)."),
            flushRxOnError=S(False, "After a bad line, drop unanswered what waits in the RX buffer, as Marlin does."),
            autoreportTemp=S(True, "Offer M155 temperature auto-reports."),
            autoreportSd=S(True, "Offer M27 S SD status auto-reports."),
            extendedM20=S(True, "List long file names with M20 L."),
            busyProtocol=S(True, "Host keepalive: 'echo:busy: processing' (M0/M1: 'paused for user') while a "
                                 "command holds the queue (G4, G28, G29, M109, M190...), as Marlin does."),
            busyInterval=S(2.0, "Simulated seconds between keepalives (M113 S changes it; 0: none)."),
            timeScale=S(1.0,
                        "Simulated time runs this many times faster than real time (heating, homing, SD printing)."),
            heatRate=S(5.0, "Degrees C per simulated second at which heaters approach their target."),
            extruderCount=S(1, "Number of extruders (T0, T1, ...)."),
            hasChamber=S(False, "Simulate a heated chamber (M141/M191)."),
            sdPrintRate=S(4096.0, "Bytes per simulated second an SD print advances."),
            firmwareName=S("Marlin 2.1.2 (octohost virtual)", "Firmware name in the M115 report."),
        ),
    ),
    folder=Section(
        "Folders, relative to the base folder unless absolute.",
        uploads=S("uploads", "Uploaded G-code files."),
        logs=S("logs", "Log files."),
        plugins=S("plugins", "Single-file and package plugins."),
        printerProfiles=S("printerProfiles", "Printer profiles, one YAML file each."),
        scripts=S("scripts", "GCODE scripts (scripts/gcode/<name>)."),
        data=S("data", "Plugin data and internal state."),
        timelapse=S("timelapse", "Rendered timelapse videos."),
        timelapseTmp=S("timelapse/tmp", "Frames of timelapses not rendered yet."),
    ),
    temperature=Section(
        "Temperature presets and history.",
        profiles=S([{"name": "PLA", "extruder": 210, "bed": 60, "chamber": None},
                    {"name": "PETG", "extruder": 240, "bed": 80, "chamber": None},
                    {"name": "ABS", "extruder": 250, "bed": 100, "chamber": None}],
                   "Presets offered in the UI: name, extruder, bed, chamber (degC).", item_type=dict),
        cutoff=S(30, "Minutes of temperature history kept and shown."),
    ),
    feature=Section(
        "Optional features.",
        sdSupport=S(True, "Use the printer's SD card when it has one."),
        temperatureGraph=S(True, "Show the temperature graph."),
        pollWatched=S(False, "Poll the watched folder instead of relying on inotify."),
        modelSizeDetection=S(True, "Warn when a file does not fit the print volume."),
    ),
    files=Section(
        "Uploaded files and their background analysis.",
        analysis=Section(
            "G-code analysis (print time, filament, dimensions, slicer metadata, thumbnails).",
            enabled=S(True, "Analyse G-code files in the background after upload."),
            acceleration=S(1500.0,
                           "Acceleration in mm/s^2 assumed for print-time estimates until the file sets one (M204)."),
            filamentDiameter=S(1.75, "Filament diameter in mm for volume figures when the file does not state it."),
        ),
        limits=Section(
            "Bounds on paths in the uploads folder; an upload, new folder, copy or move beyond them gets HTTP 400.",
            maxDepth=S(32, "Levels a path may have, folders plus file name (a/b/c.gcode has 3); listings stop "
                           "there. At most 128."),
            maxNameLength=S(255, "Bytes (UTF-8) of one file or folder name after sanitizing. At most 255."),
            maxPathLength=S(1024, "Bytes (UTF-8) of a whole path, relative to the uploads folder. At most 3072."),
        ),
    ),
    printerProfiles=Section(
        "Printer profiles.",
        default=S(None, "Id of the profile used when none is given.", types=(str,)),
    ),
    webcam=Section(
        "Webcams and timelapse recordings. The keys up to cacheBuster describe the camera named 'classic'; "
        "cameras lists more.",
        webcamEnabled=S(True, "Show webcams in the UI."),
        stream=S("", "URL of an MJPEG stream; empty hides the webcam."),
        snapshot=S("", "URL of a still JPEG image (snapshots and timelapses); empty: none."),
        flipH=S(False, "Flip the image horizontally."),
        flipV=S(False, "Flip the image vertically."),
        rotate90=S(False, "Rotate the image by 90 degrees counter-clockwise."),
        streamRatio=S("16:9", "Aspect ratio of the stream.", choices=["16:9", "4:3"]),
        streamTimeout=S(5, "Seconds the UI waits for the stream before saying it is unavailable.", minimum=1,
                        maximum=600),
        snapshotTimeout=S(5, "Seconds a snapshot may take to arrive from the camera.", minimum=1, maximum=60),
        snapshotSslValidation=S(True, "Check the camera's TLS certificate when fetching an https snapshot."),
        cacheBuster=S(False, "Add a random query parameter to the stream URL so browsers do not cache it."),
        cameras=S([], "More cameras: {name, displayName, stream, snapshot, flipH, flipV, rotate90, streamRatio}.",
                  item_type=dict),
        defaultWebcam=S("classic", "Name of the camera the UI shows first."),
        snapshotWebcam=S("classic", "Name of the camera snapshots and timelapses come from."),
        maxSnapshotSize=S(16 * 1024 * 1024, "Largest snapshot accepted from a camera, in bytes.", minimum=1024,
                          maximum=256 * 1024 * 1024),
        timelapseEnabled=S(True, "Record timelapses (when a snapshot camera exists and timelapse.type is not off)."),
        ffmpeg=S("ffmpeg", "ffmpeg program that renders timelapses: a path, or a name looked up on PATH "
                           "(Debian: apt install ffmpeg)."),
        ffmpegThreads=S(1, "Threads ffmpeg may use for one render.", minimum=1, maximum=64),
        ffmpegVideoCodec=S("libx264", "Video codec of rendered timelapses (mpeg2video gives .mpg, others .mp4).",
                           choices=["libx264", "mpeg2video", "mpeg4"]),
        bitrate=S("10000k", "Video bitrate passed to ffmpeg (e.g. 10000k, 5M)."),
        watermark=S(True, "Put a small 'octohost' mark in the lower left corner of rendered timelapses."),
        renderAfterPrintDelay=S(0, "Seconds to wait after a print ends before rendering; a print started meanwhile "
                                   "postpones it.", minimum=0, maximum=86400),
        renderWhilePrinting=S(False, "Render while a print runs (ffmpeg then competes for the CPU with the serial "
                                     "loop); off: renders wait until no print runs."),
        renderNice=S(10, "Scheduling priority (nice) of ffmpeg; 19 is the lowest.", minimum=0, maximum=19),
        cleanTmpAfterDays=S(7, "Days after which unrendered recordings are removed.", minimum=1, maximum=3650),
        maxCaptureSize=S(2 * 1024 * 1024 * 1024, "Bytes unrendered recordings may use on disk; past it the oldest "
                                                 "(not the one recording) are removed with a warning.",
                         minimum=1024 * 1024, maximum=2**50),
        timelapse=Section(
            "The timelapse recorded during prints.",
            type=S("off", "off, zchange (a frame at each layer change) or timed (every options.interval seconds).",
                   choices=["off", "zchange", "timed"]),
            fps=S(25, "Frames per second of the rendered video.", minimum=1, maximum=120),
            postRoll=S(0, "Seconds of video added after the print: one last frame, taken when the print has "
                          "ended, held this long.", minimum=0, maximum=600),
            renderAfterPrint=S("always", "When to render after a print: always, success, failure, or never "
                                         "(render by hand from the Timelapse tab).",
                               choices=["always", "success", "failure", "never", "off"]),
            options=Section(
                "Options of the timelapse types.",
                interval=S(10, "timed: seconds between frames.", minimum=1, maximum=86400),
                retractionZHop=S(0.0, "zchange: a Z move of exactly this height (a z-hop) takes no frame; 0: off.",
                                 minimum=0, maximum=100),
                minDelay=S(5.0, "zchange: seconds that must pass between two frames (vase mode).", minimum=0,
                           maximum=3600),
            ),
        ),
    ),
    accessControl=Section(
        "Users and sessions.",
        sessionTimeout=S(720, "Minutes a UI session stays valid without activity."),
        autologinLocal=S(False, "Log in requests from localNetworks automatically as autologinAs."),
        autologinAs=S(None, "User to log in automatically.", types=(str,)),
        localNetworks=S(["127.0.0.0/8", "::1/128"], "Networks that count as local.", item_type=str),
    ),
    api=Section(
        "The REST API.",
        allowCrossOrigin=S(False, "Send CORS headers on API answers."),
        metricsLocalNetworks=S(False, "Answer GET /metrics without an API key to clients from "
                                      "accessControl.localNetworks (for a Prometheus scraper)."),
    ),
    appearance=Section(
        "How the UI looks.",
        name=S("", "Name of this printer, shown in the title."),
        color=S("default", "Accent colour of the UI.",
                choices=["default", "red", "orange", "yellow", "green", "blue", "violet", "black"]),
    ),
    events=Section(
        "The event bus.",
        subscriptions=S([], "Shell commands or G-code run on events: {event, type: system|gcode, command, enabled}.",
                        item_type=dict),
    ),
    mqtt=Section(
        "The MQTT bridge: telemetry, events and commands on a message broker (off by default).",
        enabled=S(False, "Connect to the broker below and publish under <baseTopic>/<printerId>/."),
        broker=Section(
            "The MQTT broker.",
            host=S("localhost", "Host name or address of the broker."),
            port=S(1883, "TCP port of the broker (8883 is usual with TLS)."),
            username=S(None, "User name; null: connect anonymously.", types=(str,)),
            password=S(None, "Password for username (never shown by the API).", types=(str,)),
            tls=Section(
                "TLS to the broker.",
                enabled=S(False, "Connect over TLS, checking the broker's certificate."),
                ca=S(None, "CA certificate file (PEM) that signed the broker's certificate; null: the system's.",
                     types=(str,)),
                certfile=S(None, "Client certificate file (PEM), for brokers that require one.", types=(str,)),
                keyfile=S(None, "Private key of certfile (PEM).", types=(str,)),
            ),
        ),
        clientId=S(None, "MQTT client id; null: octohost-<printerId>-<installation>, unique per base folder.",
                   types=(str,)),
        printerId=S(None, "This printer's topic level; null: derived from the host name (stable across restarts). "
                          "Set it when several daemons share a machine.", types=(str,)),
        baseTopic=S("octohost", "First topic level of everything published."),
        telemetryInterval=S(1.0, "Seconds between telemetry messages."),
        commands=S(False, "Execute commands received on <baseTopic>/<printerId>/command (off: answer REJECTED)."),
        homeassistant=Section(
            "Home Assistant.",
            discovery=S(False, "Publish Home Assistant MQTT discovery configs (state, temperatures, progress, "
                               "pause/resume/cancel buttons) under the topic homeassistant/."),
        ),
    ),
    controls=S([], "Custom controls in the Control tab, as in OctoPrint: "
                   "{name, command | commands | script, confirm, input} or containers {name, children, layout}.",
               item_type=dict),
    plugins=Section(
        "Plugins: per-plugin settings under their identifier.",
        open=True,
        _disabled=S([], "Identifiers of plugins that are not loaded.", item_type=str),
        _forcedCompatible=S([], "Identifiers of OctoPrint plugins loaded although their __plugin_pythoncompat__ "
                                "excludes this Python (as OctoPrint's setting of that name).", item_type=str),
    ),
)


def walk(section: Section = SCHEMA, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Setting]]:
    """Yield (path tuple, Setting) for every declared leaf, in declaration order."""
    for name, node in section.items():
        path = prefix + (name,)
        if isinstance(node, Section):
            yield from walk(node, path)
        else:
            yield path, node


def lookup(path: Sequence[str]) -> Setting | Section | None:
    """The schema node at ``path`` (tuple), or None if undeclared; raises KeyError past a leaf."""
    node: Setting | Section = SCHEMA
    for i, name in enumerate(path):
        if not isinstance(node, Section):
            raise KeyError(".".join(path[:i]))
        if name not in node:
            return None
        node = node[name]
    return node


def open_prefix(path: Sequence[str]) -> bool:
    """True if ``path`` lies inside an open section (its keys are free-form)."""
    node: Setting | Section = SCHEMA
    for name in path:
        if isinstance(node, Section) and node.open and name not in node:
            return True
        if not isinstance(node, Section) or name not in node:
            return False
        node = node[name]
    return isinstance(node, Section) and node.open


def defaults(section: Section = SCHEMA) -> dict[str, Any]:
    """The defaults as a plain nested dict (fresh copy)."""
    import copy

    out: dict[str, Any] = {}
    for name, node in section.items():
        out[name] = defaults(node) if isinstance(node, Section) else copy.deepcopy(node.default)
    return out


#: seconds; no timeout needs more, and waits far beyond it raise OverflowError in the threads using them
_DAY = 86400
#: numeric ranges, by setting or by section (every setting in it): outside them a value would stall
#: or crash the part that uses it, so the API and config.yaml refuse it
_RANGES = {
    ("server", "port"): (0, 65535),
    ("server", "workerThreads"): (1, 256),
    ("server", "idleConnectionTimeout"): (0, _DAY),
    ("server", "bodyTimeout"): (0, _DAY),
    ("server", "maxHeaderSize"): (1024, 1024 * 1024),
    ("server", "switchInterval"): (0.000001, 0.1),  # sys.setswitchinterval refuses 0 and below
    ("serial", "timeout"): (0, _DAY),
    ("serial", "maxCommunicationTimeouts"): (0, 1000),
    # below ~32 bytes no numbered line with its checksum fits, and every command would be refused
    ("serial", "rxBufferSize"): (32, 1024 * 1024),
    ("serial", "virtual", "rxBufferSize"): (32, 1024 * 1024),
    ("serial", "reconnect", "initialDelay"): (0, _DAY),
    ("serial", "reconnect", "multiplier"): (1, 100),
    ("serial", "reconnect", "maxDelay"): (0, _DAY),
    ("serial", "reconnect", "jitter"): (0, 1),
    ("serial", "reconnect", "failureThreshold"): (0, 1000),
    ("serial", "reconnect", "openSeconds"): (0, _DAY),
    ("serial", "reconnect", "stableSeconds"): (0, _DAY),
    ("accessControl", "sessionTimeout"): (1, 366 * 24 * 60),
    ("mqtt", "broker", "port"): (1, 65535),
    ("mqtt", "telemetryInterval"): (0.05, 3600),
}


def _apply_ranges() -> None:
    for path, (minimum, maximum) in _RANGES.items():
        node = lookup(path)
        if node is None:
            raise KeyError(f"a range for the undeclared setting {'.'.join(path)}")
        for setting in [node] if isinstance(node, Setting) else [leaf for _, leaf in walk(node)]:
            setting.minimum, setting.maximum = minimum, maximum


_apply_ranges()
