"""The printer layer: everything between the comm layer and the server."""

from .interface import InvalidFileLocation, InvalidFileType, PrinterCallback, PrinterInterface, UnknownScriptException
from .profiles import (
                        BedFormFactor,
                        BedOrigin,
                        CouldNotOverwriteError,
                        CouldNotRemoveError,
                        InvalidProfileError,
                        PrinterProfileError,
                        PrinterProfileManager,
                        SaveError,
)

__all__ = ["BedFormFactor", "BedOrigin", "CouldNotOverwriteError", "CouldNotRemoveError",
           "InvalidFileLocation", "InvalidFileType", "InvalidProfileError", "PrinterCallback",
           "PrinterInterface", "PrinterProfileError", "PrinterProfileManager", "SaveError",
           "UnknownScriptException"]
