"""How deep and how long a path in the uploads folder may get (``files.limits`` settings).

Every path a client creates -- upload, new folder, copy or move destination -- is checked here,
after sanitizing, so that what is on disk stays within what listing, deleting, start-up and the
JSON encoder handle in bounded time and stack. The settings are clamped to hard ceilings: a depth
beyond ``MAX_DEPTH`` would let a listing's JSON nest towards Python's recursion limit, Linux file
systems store no name over 255 bytes, and the uploads folder's own path plus a relative path over
3072 bytes comes close to PATH_MAX (4096), past which no path-based system call works.
"""

from dataclasses import dataclass

from .errors import LimitExceeded, shorten

MAX_DEPTH = 128
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 3072


@dataclass(frozen=True)
class PathLimits:
    depth: int = 32
    name_bytes: int = MAX_NAME_BYTES
    path_bytes: int = 1024

    @classmethod
    def from_settings(cls, settings) -> "PathLimits":
        return cls(depth=_clamp(settings.get("files.limits.maxDepth"), MAX_DEPTH),
                   name_bytes=_clamp(settings.get("files.limits.maxNameLength"), MAX_NAME_BYTES),
                   path_bytes=_clamp(settings.get("files.limits.maxPathLength"), MAX_PATH_BYTES))

    def check(self, path: str) -> None:
        """Raise LimitExceeded unless the relative, "/"-separated ``path`` fits."""
        parts = path.split("/")
        if len(parts) > self.depth:
            raise LimitExceeded(f"{shorten(path)} has {len(parts)} levels; at most {self.depth} "
                                "(folders and file name) are allowed", path)
        for part in parts:
            if byte_length(part) > self.name_bytes:
                raise LimitExceeded(f"the name {shorten(part)} is {byte_length(part)} bytes long; at most "
                                    f"{self.name_bytes} are allowed", path)
        if byte_length(path) > self.path_bytes:
            raise LimitExceeded(f"the path {shorten(path)} is {byte_length(path)} bytes long; at most "
                                f"{self.path_bytes} are allowed", path)

    def check_tree(self, path: str, depth: int, length: int) -> None:
        """Raise LimitExceeded unless a tree whose deepest entry is ``depth`` levels and whose longest
        relative path is ``length`` bytes fits at ``path``."""
        self.check(path)
        levels = len(path.split("/")) + depth
        if levels > self.depth:
            raise LimitExceeded(f"at {shorten(path)} the folder's content would have {levels} levels; at most "
                                f"{self.depth} are allowed", path)
        total = byte_length(path) + 1 + length if length else byte_length(path)
        if total > self.path_bytes:
            raise LimitExceeded(f"at {shorten(path)} the folder's content would have paths of {total} bytes; at "
                                f"most {self.path_bytes} are allowed", path)


def byte_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def _clamp(value, ceiling):
    return max(1, min(int(value), ceiling))
