"""OctoPrint's names in ``/api/settings``: keys its clients read that octohost keeps elsewhere or not at all.

OctoPrint answers its serial tuning flat (``serial.timeoutConnection``), where octohost nests it
(``serial.timeout.connection``): those keys are aliases, read from and written to octohost's own
setting. A few are derived from an octohost setting and only read (``disconnectOnErrors`` from
``serial.firmwareErrors``). The rest are switches of OctoPrint's comm layer and UI that octohost
does not have: they answer OctoPrint's defaults, so a client finds every key it expects, and a POST
of them (OctoPrint's UI posts the whole tree back) is accepted and ignored.
"""

import copy
from collections.abc import Callable
from typing import Any

from octohost.settings import schema

#: OctoPrint's flat serial key -> octohost's setting (read and written)
SERIAL_ALIASES = {
    "timeoutConnection": ("timeout", "connection"),
    "timeoutDetectionConsecutive": ("timeout", "detection"),
    "timeoutCommunication": ("timeout", "communication"),
    "timeoutCommunicationBusy": ("timeout", "communicationBusy"),
    "timeoutTemperature": ("timeout", "temperature"),
    "timeoutTemperatureTargetSet": ("timeout", "temperatureTargetSet"),
    "timeoutTemperatureAutoreport": ("timeout", "temperatureAutoreport"),
    "timeoutSdStatus": ("timeout", "sdStatus"),
    "timeoutSdStatusAutoreport": ("timeout", "sdStatusAutoreport"),
    "maxTimeoutsIdle": ("maxCommunicationTimeouts", "idle"),
    "maxTimeoutsPrinting": ("maxCommunicationTimeouts", "printing"),
    "maxTimeoutsLong": ("maxCommunicationTimeouts", "long"),
}

#: OctoPrint 1.11.8's defaults of the serial keys octohost has no setting for
SERIAL_FIXED = {
    "abortHeatupOnCancel": True, "ackMax": 1, "alwaysSendChecksum": False, "blacklistedBaudrates": [],
    "blacklistedPorts": [], "blockWhileDwelling": False, "capAutoreportPos": True,
    "capBusyProtocol": True, "capEmergencyParser": True, "capExtendedM20": True, "capLfnWrite": True,
    "disableSdPrintingDetection": False,
    "enableShutdownActionCommand": False, "encoding": "ascii", "exclusive": True, "externalHeatupDetection": True,
    "firmwareDetection": True, "ignoreEmptyPorts": False, "ignoreIdenticalResends": False,
    "logPositionOnCancel": False, "logPositionOnPause": True,
    "notifySuppressedCommands": "warn", "repetierTargetTemp": False,
    "resendRatioStart": 100, "resendRatioThreshold": 10, "sanityCheckTools": True, "sdAlwaysAvailable": False,
    "sdCancelCommand": "M25", "sdLowerCase": False, "sdRelativePath": False, "sendChecksumWithUnknownCommands": False,
    "sendM112OnError": True, "supportResendsWithoutOk": "detect", "swallowOkAfterResend": True,
    "timeoutBaudrateDetectionPause": 1.0, "timeoutPosAutoreport": 5.0, "timeoutPositionLogWait": 10.0,
    "triggerOkForM29": True, "unknownCommandsNeedAck": False, "useParityWorkaround": "detect", "waitForStart": False,
    "waitToLoadSdFileList": True,
}
#: derived from octohost settings when answering, ignored in a POST
SERIAL_DERIVED = ("timeoutDetectionFirst", "capAutoreportTemp", "capAutoreportSdStatus", "disconnectOnErrors",
                  "ignoreErrorsFromFirmware", "portOptions", "baudrateOptions")

FIXED = {
    "serial": SERIAL_FIXED,
    "feature": {"keyboardControl": True, "rememberFileFolder": False, "printStartConfirmation": False,
                "printCancelConfirmation": True, "uploadOverwriteConfirmation": True, "fileDeleteConfirmation": True,
                "g90InfluencesExtruder": False, "autoUppercaseBlacklist": ["M117", "M118", "M707", "M708"],
                "enableDragDropUpload": True},
    "appearance": {"colorTransparent": False, "colorIcon": True, "defaultLanguage": "_default",
                   "showFahrenheitAlso": False, "fuzzyTimes": True, "closeModalsWithClick": True,
                   "showInternalFilename": True},
    "temperature": {"sendAutomatically": False, "sendAutomaticallyAfter": 1},
}

SYSTEM_COMMANDS = ("serverRestartCommand", "systemRestartCommand", "systemShutdownCommand")


def add_octoprint_keys(tree: dict, connection_options: dict) -> None:
    """Add OctoPrint's keys to the sections of ``tree`` (an answer of ``/api/settings``) it has."""
    serial = tree.get("serial")
    if isinstance(serial, dict):
        for key, path in SERIAL_ALIASES.items():
            serial[key] = _get(serial, path)
        serial["timeoutDetectionFirst"] = serial["timeoutDetectionConsecutive"]
        serial["capAutoreportTemp"] = serial["capAutoreportSdStatus"] = serial.get("autoreport")
        serial["disconnectOnErrors"] = serial.get("firmwareErrors") == "disconnect"
        serial["ignoreErrorsFromFirmware"] = serial.get("firmwareErrors") == "ignore"
        serial["portOptions"] = list(connection_options.get("ports") or [])
        serial["baudrateOptions"] = list(connection_options.get("baudrates") or [])
        if not serial.get("baudrate"):  # 0: detect it, which OctoPrint says with null
            serial["baudrate"] = None
    for section, values in FIXED.items():
        target = tree.get(section)
        if isinstance(target, dict):
            for key, value in values.items():
                target.setdefault(key, copy.deepcopy(value))
    commands = tree.get("server", {}).get("commands")
    if isinstance(commands, dict):
        for key in SYSTEM_COMMANDS:  # unset is "" here and null in OctoPrint
            if commands.get(key) == "":
                commands[key] = None


def take_octoprint_keys(data: dict, current: Callable[[str], Any]) -> None:
    """Turn OctoPrint's keys in a settings POST into octohost's, in place: aliases move to their
    setting, derived and fixed keys are dropped. A client posts back the whole tree it read, with
    both names of a setting, and changes one of them: the one that differs from ``current(key)``
    (the stored value) wins, octohost's name if both do."""
    serial = data.get("serial")
    if isinstance(serial, dict):
        for key, path in SERIAL_ALIASES.items():
            if key not in serial:
                continue
            value = serial.pop(key)
            parent = serial
            for name in path[:-1]:
                parent = parent.setdefault(name, {}) if isinstance(parent.get(name, {}), dict) else {}
            if path[-1] not in parent or parent[path[-1]] == current(".".join(("serial",) + path)):
                parent[path[-1]] = value
        for key in SERIAL_DERIVED:
            serial.pop(key, None)
        if "baudrate" in serial and serial["baudrate"] is None:
            serial["baudrate"] = 0
    for section, values in FIXED.items():
        target = data.get(section)
        if isinstance(target, dict):
            for key in values:
                if key in target and schema.lookup((section, key)) is None:
                    target.pop(key)
    commands = data.get("server", {}).get("commands") if isinstance(data.get("server"), dict) else None
    if isinstance(commands, dict):
        for key in SYSTEM_COMMANDS:
            if key in commands and commands[key] is None:
                commands[key] = ""


def _get(section: dict, path: tuple) -> object:
    value: object = section
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value
