"""The virtual SD card: files under long names with DOS 8.3 short names, as Marlin lists them."""

import re

_SHORT_OK = re.compile(r"^[A-Z0-9_~\-]{1,8}(\.[A-Z0-9_~\-]{1,3})?$")


def short_name(name, taken):
    """The 8.3 alias a FAT driver gives ``name``, unique among ``taken``.

    A name that is a valid 8.3 name apart from its case keeps it (``test.gco`` -> ``TEST.GCO``);
    any lossy conversion gets a numeric tail (``benchy.gcode`` -> ``BENCHY~1.GCO``).
    """
    upper = name.upper()
    if _SHORT_OK.match(upper) and upper not in taken:
        return upper
    stem, dot, ext = upper.rpartition(".")
    if not dot:
        stem, ext = upper, ""
    stem = re.sub(r"[^A-Z0-9_\-]", "", stem) or "FILE"
    ext = re.sub(r"[^A-Z0-9_\-]", "", ext)[:3]
    suffix = "." + ext if ext else ""
    for number in range(1, 100000):
        tail = f"~{number}"
        candidate = stem[:8 - len(tail)] + tail + suffix
        if candidate not in taken:
            return candidate
    raise ValueError(f"no free short name for {name!r}")


class SdCard:
    def __init__(self, files, present=True):
        self.present = present
        self.ready = present
        self.files = {}  # long name -> bytes
        self.short = {}  # short name -> long name
        for name, content in files.items():
            self.store(name, content.encode() if isinstance(content, str) else bytes(content))
        self.selected = None
        self.position = 0
        self.printing = False
        self.writing = None  # (name, list of lines) while an M28 upload runs

    def store(self, name, content):
        existing = self.resolve(name)
        if existing is not None:
            self.files[existing] = content
            return existing
        alias = short_name(name, set(self.short))
        self.short[alias] = name
        self.files[name] = content
        return name

    def resolve(self, name):
        """The long name of ``name`` given as long or short name, with or without a leading slash."""
        name = name.lstrip("/")
        if name in self.files:
            return name
        upper = name.upper()
        if upper in self.short:
            return self.short[upper]
        for long_name in self.files:
            if long_name.lower() == name.lower():
                return long_name
        return None

    def short_of(self, long_name):
        return next(alias for alias, name in self.short.items() if name == long_name)

    def delete(self, name):
        long_name = self.resolve(name)
        if long_name is None:
            return False
        del self.short[self.short_of(long_name)]
        del self.files[long_name]
        if self.selected == long_name:
            self.selected, self.position, self.printing = None, 0, False
        return True

    def listing(self, long_names):
        for alias, long_name in sorted(self.short.items()):
            size = len(self.files[long_name])
            yield f"{alias} {size} {long_name}" if long_names else f"{alias} {size}"

    def select(self, name):
        long_name = self.resolve(name)
        if long_name is None:
            return None
        self.selected, self.position, self.printing = long_name, 0, False
        return long_name

    @property
    def size(self):
        return len(self.files[self.selected]) if self.selected else 0

    def advance(self, nbytes):
        """Print ``nbytes`` more of the selected file; True when that finished it."""
        if not self.printing:
            return False
        self.position = min(self.size, self.position + int(nbytes))
        if self.position >= self.size:
            self.printing = False
            return True
        return False
