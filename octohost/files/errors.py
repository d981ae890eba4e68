"""Storage errors: one class per reason, each with a ``code`` the server maps to an HTTP status."""


class StorageError(Exception):
    """Base of every file manager error; ``code`` names the reason, ``str()`` explains it."""

    code = "storage_error"

    def __init__(self, message, path=None):
        super().__init__(message)
        self.path = path


class PathEscape(StorageError):
    code = "path_escape"


class NotFound(StorageError):
    code = "not_found"


class AlreadyExists(StorageError):
    code = "already_exists"


class InvalidName(StorageError):
    code = "invalid_name"


class InvalidType(StorageError):
    code = "invalid_type"


class FileInUse(StorageError):
    code = "file_in_use"


class UploadFailed(StorageError):
    """Reading the upload stream failed; nothing was stored and an older file stays as it was."""

    code = "upload_failed"


class NotEmpty(StorageError):
    code = "not_empty"
