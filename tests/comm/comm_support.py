"""Helpers shared by the comm tests that talk to the virtual printer with raw lines."""

from octohost.comm.virtual import checksum


def numbered(n, command):
    """``command`` framed as line ``n``: ``N<n> <command>*<checksum>``."""
    line = f"N{n} {command}"
    return f"{line}*{checksum(line)}"


class Host:
    """Writes raw lines to an in-process virtual printer and reads answers up to the ok that closes them."""

    def __init__(self, printer):
        self.printer = printer
        printer.timeout = 5.0
        last = "echo:SD card ok" if printer.options.sd_card else printer.options.banner[-1]
        self.banner = self.read_until(lambda line: line == last)

    def read_line(self):
        raw = self.printer.readline()
        assert raw.endswith(b"\n"), f"no complete line within the timeout (got {raw!r})"
        return raw.decode().rstrip("\n")

    def read_until(self, predicate):
        lines = [self.read_line()]
        while not predicate(lines[-1]):
            lines.append(self.read_line())
        return lines

    def send(self, line):
        self.printer.write(line.encode() + b"\n")
        return self.read_until(lambda answer: answer.startswith("ok"))
