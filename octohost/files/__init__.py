"""File storage, metadata and G-code analysis (origin ``local``).

``FileManager`` is the one entry point; errors are :class:`StorageError` subclasses whose
``code`` the server maps to HTTP statuses (path_escape/invalid_name/limit_exceeded 400, not_found
404, already_exists/file_in_use/not_empty 409, invalid_type 415, upload_failed 400).
"""

from .analysis import AbstractAnalysisQueue, AnalysisOutcome, QueueEntry
from .errors import (
                     AlreadyExists,
                     FileInUse,
                     InvalidName,
                     InvalidType,
                     LimitExceeded,
                     NotEmpty,
                     NotFound,
                     PathEscape,
                     StorageError,
                     UploadFailed,
)
from .manager import STORAGE, FileManager
from .wrappers import AbstractFileWrapper, DiskFileWrapper, LineProcessorStream, StreamWrapper

__all__ = [
    "AbstractAnalysisQueue", "AbstractFileWrapper", "AlreadyExists", "AnalysisOutcome", "DiskFileWrapper",
    "FileInUse", "FileManager", "InvalidName", "InvalidType", "LimitExceeded", "LineProcessorStream", "NotEmpty",
    "NotFound", "PathEscape", "QueueEntry", "STORAGE", "StorageError", "StreamWrapper", "UploadFailed",
]
