"""Bounds on structured input from clients: how deep it nests and how large its numbers are.

Python's JSON parser, deep-copy, YAML dumper and comparison all recurse once per level, so a body
nested a few thousand levels deep raises RecursionError somewhere far from the request; a
400-digit integer parses fine and raises OverflowError only when something converts it to a
float. Both are refused here, where the body is parsed, so every view sees only sane values.

The depth check does not recurse: it drops string literals and everything but brackets, then
peels off innermost bracket pairs, one level per pass, so it costs at most ``MAX_DEPTH`` linear
passes, and nothing for the usual body that has fewer brackets than that.
"""

import json
import math

#: deeper than any settings tree, profile or per-user settings a client has reason to send
MAX_DEPTH = 32
#: the largest integer a JavaScript client can represent exactly; no setting or command needs more
MAX_NUMBER = 2**53 - 1

#: every byte but the four brackets (UTF-8 never uses ASCII bytes inside a multi-byte character)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
#: braces become brackets: only the depth counts here, mismatched pairs are the parser's to refuse
_ONE_KIND = bytes.maketrans(b"{}", b"[]")


class InputLimitError(ValueError):
    """The input nests too deeply or holds a number out of range."""


def number_in_range(value) -> bool:
    """True for a finite int or float (not bool) no larger in magnitude than ``MAX_NUMBER``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return -MAX_NUMBER <= value <= MAX_NUMBER


def too_deep(text: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """True if the UTF-8 JSON ``text`` nests arrays/objects more than ``max_depth`` levels deep (or
    its brackets do not pair up, which the parser refuses anyway). Only C-level string operations:
    about 0.1 s for the worst megabyte."""
    if text.count(b"[") + text.count(b"{") <= max_depth:
        return False
    # escaped backslashes first, so that in \\" the quote still ends the string
    unescaped = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(unescaped.split(b'"')[0::2]).translate(_ONE_KIND, _NOT_BRACKETS)
    run = b"[" * (max_depth + 1)
    for _ in range(max_depth):
        if not brackets:
            return False
        if run in brackets:
            return True
        inner_removed = brackets.replace(b"[]", b"")  # exactly one level: replace never rescans
        if len(inner_removed) == len(brackets):
            return True
        brackets = inner_removed
    return bool(brackets)


def _parse_int(literal):
    value = int(literal)
    if not -MAX_NUMBER <= value <= MAX_NUMBER:
        raise InputLimitError(f"number {literal[:20]}{'...' if len(literal) > 20 else ''} is out of range "
                              f"(at most {MAX_NUMBER} in magnitude)")
    return value


def _parse_float(literal):
    value = float(literal)
    if not number_in_range(value):
        raise InputLimitError(f"number {literal[:20]}{'...' if len(literal) > 20 else ''} is out of range "
                              f"(at most {MAX_NUMBER} in magnitude)")
    return value


def _refuse_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def loads(data, max_depth: int = MAX_DEPTH):
    """Parse JSON text or bytes strictly: no NaN/Infinity, numbers within ``MAX_NUMBER``, at most
    ``max_depth`` levels deep. Raises ValueError (InputLimitError for the bounds)."""
    if isinstance(data, str):
        text, raw = data, data.encode("utf-8", "surrogatepass")
    else:
        raw = bytes(data)
        encoding = json.detect_encoding(raw)
        text = raw.decode(encoding)
        if encoding != "utf-8":
            raw = text.encode("utf-8", "surrogatepass")
    if too_deep(raw, max_depth):
        raise InputLimitError(f"nested more than {max_depth} levels deep")
    return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
