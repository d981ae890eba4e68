"""Storage errors: one class per reason, each with a ``code`` the server maps to an HTTP status."""

import errno


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


class LimitExceeded(InvalidName):
    """A new path would be nested deeper, or have a longer name or path, than ``files.limits`` allow."""

    code = "limit_exceeded"


#: errors a file system gives for a name or path a client chose, and how to answer them
_CLIENT_ERRNOS = {
    errno.ENAMETOOLONG: (InvalidName, "the file system refuses a name or path that long"),
    errno.ELOOP: (InvalidName, "too many symbolic links on the way"),
    errno.EILSEQ: (InvalidName, "the file system refuses a character of the name"),
    errno.EINVAL: (InvalidName, "the file system refuses the name"),
    errno.ENOTDIR: (AlreadyExists, "a file is in the way of a folder"),
    errno.EISDIR: (AlreadyExists, "a folder is in the way of a file"),
    errno.EEXIST: (AlreadyExists, "something of that name exists"),
    errno.ENOTEMPTY: (AlreadyExists, "a folder of that name exists and is not empty"),
    errno.ESTALE: (FileInUse, "the folder was moved while it was being gone through; try again"),
}


def from_os_error(exc, path=None):
    """The StorageError for an OSError caused by the name or path a client chose, or None if the
    error is the server's own (permissions, I/O, a full disk)."""
    known = _CLIENT_ERRNOS.get(exc.errno)
    if known is None:
        return None
    cls, reason = known
    if path is None:
        return cls(reason)
    return cls(f"{reason}: {shorten(path)}", path)


def shorten(path, keep=80):
    """``path`` quoted for a message, cut to ``keep`` characters so an error never echoes a huge name."""
    text = str(path)
    return repr(text) if len(text) <= keep else repr(text[:keep]) + f"... ({len(text)} characters)"
