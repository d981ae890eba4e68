"""File objects handed to the ``filemanager.preprocessor`` hook, as in OctoPrint.

A wrapper names the file (``filename``) and gives its bytes through ``stream()``; a preprocessor
returns the wrapper untouched or a new one around a transformed stream (e.g. a
:class:`LineProcessorStream` subclass). The manager then reads the final stream in chunks.
"""

import io


class AbstractFileWrapper:
    def __init__(self, filename):
        self.filename = filename

    def stream(self):
        """A binary, readable file object with the file's content."""
        raise NotImplementedError


class StreamWrapper(AbstractFileWrapper):
    """An upload arriving as a readable binary stream."""

    def __init__(self, filename, stream):
        super().__init__(filename)
        self._stream = stream

    def stream(self):
        return self._stream


class DiskFileWrapper(AbstractFileWrapper):
    """An upload already on disk (the server streamed it there); may be renamed into place."""

    def __init__(self, filename, path, move=True):
        super().__init__(filename)
        self.path = path
        self.move = move

    def stream(self):
        return open(self.path, "rb")


class LineProcessorStream(io.RawIOBase):
    """A stream that passes each line of ``input_stream`` through :meth:`process_line`.

    ``process_line(line: bytes)`` returns replacement bytes, or None to drop the line.
    """

    def __init__(self, input_stream):
        super().__init__()
        self.input_stream = io.BufferedReader(input_stream) if not hasattr(input_stream, "readline") else input_stream
        self._pending = b""
        self._eof = False

    def process_line(self, line):
        return line

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self._pending and not self._eof:
            line = self.input_stream.readline()
            if not line:
                self._eof = True
                break
            processed = self.process_line(line)
            if processed:
                self._pending = processed
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count

    def close(self):
        try:
            self.input_stream.close()
        finally:
            super().close()
