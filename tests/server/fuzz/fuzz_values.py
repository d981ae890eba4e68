"""Hypothesis strategies for hostile input: nasty values, mutations of valid-ish bodies, raw bodies.

Values that cannot travel through ``json.dumps`` (nesting deeper than the client's own recursion
limit, paths that only the running server knows) are placeholders that :func:`expand` replaces in
the serialised text just before sending.
"""

import json

from hypothesis import strategies as st

#: replaced by ``[`` * depth + ``]`` * depth in the serialised body
DEEP = "@@DEEP{}@@"
#: replaced by the absolute path of the sentinel folder beside the base folder
SENTINEL = "@@SENTINEL@@"
DEPTHS = (50, 500, 900, 10000)

TRAVERSALS = ["..", "../", "../../sentinel/victim.txt", "../../../sentinel", "../../sentinel/sub/../victim.txt",
              "..\\..\\sentinel\\victim.txt", "%2e%2e/%2e%2e/sentinel/victim.txt", "....//....//sentinel",
              "escape/victim.txt", "escape/new.gcode", "escape", "folder/../../../sentinel/victim.txt",
              SENTINEL + "/victim.txt", SENTINEL, "/etc/passwd", "/", "./", ".hidden", "~/x", "a/./b/../../..",
              "nul\x00byte.gcode", "CON", "aux.gcode"]
SPECIALS = ["", " ", "null", "true", "0", "-1", "NaN", "\u202eedoc.gcode", "\U0001f525.gcode", "\ufeffbom",
            "a" * 255 + ".gcode", "a" * 300, "/".join(["d"] * 200), "x" * 5000, "{{ 7*7 }}", "%s%s%n", "$(id)",
            "'; DROP TABLE jobs; --", "<script>alert(1)</script>", "\r\nX-Injected: 1", "\t", "é", "日本語.gcode"]
#: integers past what a C long, a float or a 4300-digit str() takes
HUGE_INTS = [10**400, -(10**400), 2**1024, 10**4000, 2**63, -(2**63) - 1, 2**64]
ODD_FLOATS = [1e308, -1e308, 5e-324, -0.0, 0.1, 1e20]

#: text without lone surrogates: what can travel in a URL or a header
plain_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
#: any code point, lone surrogates included (JSON escapes them)
any_text = st.text(st.characters(), max_size=40)


def nasty_text(max_size=40):
    return st.one_of(st.sampled_from(TRAVERSALS + SPECIALS), st.text(st.characters(blacklist_categories=("Cs",)),
                                                                     max_size=max_size))


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.sampled_from(HUGE_INTS),
                    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(ODD_FLOATS), any_text,
                    nasty_text(), st.integers(1000, 200_000).map(lambda n: "A" * n))
nasty = st.one_of(scalars, st.sampled_from([DEEP.format(d) for d in DEPTHS]),
                  st.lists(scalars, max_size=4), st.dictionaries(any_text, scalars, max_size=4),
                  st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(plain_text, inner,
                                                                                                    max_size=3),
                               max_leaves=8))


def _containers(value, path=()):
    """Paths (tuples of keys/indexes) of every dict and list inside ``value``, ``value`` first."""
    if isinstance(value, dict):
        yield path
        for key, item in value.items():
            yield from _containers(item, path + (key,))
    elif isinstance(value, list):
        yield path
        for index, item in enumerate(value):
            yield from _containers(item, path + (index,))


def _at(value, path):
    for key in path:
        value = value[key]
    return value


@st.composite
def mutated(draw, body):
    """``body`` (a drawn dict) with up to three mutations: a value replaced by a nasty one, a key
    removed, a key added."""
    body = json.loads(json.dumps(body))
    for _ in range(draw(st.integers(0, 3))):
        containers = list(_containers(body))
        target = _at(body, draw(st.sampled_from(containers)))
        keys = list(target.keys()) if isinstance(target, dict) else list(range(len(target)))
        action = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        if action == "replace" and keys:
            target[draw(st.sampled_from(keys))] = draw(nasty)
        elif action == "remove" and keys:
            del target[draw(st.sampled_from(keys))]
        elif isinstance(target, dict):
            target[draw(st.one_of(st.sampled_from(["command", "path", "name", "__proto__", "id"]), any_text))] = \
                draw(nasty)
        else:
            target.append(draw(nasty))
    return body


RAW_BODIES = [b"", b"not json", b"[]", b'"text"', b"null", b"{", b"}", b'{"a":', b"\xff\xfe\x00garbage",
              b'{"command": NaN}', b'{"x": Infinity}', b'{"a": 1, "a": 2}', b"\x00" * 64, b'{"\\ud800": "\\udfff"}',
              b"[" * 10000 + b"]" * 10000, b'{"a":' * 10000 + b"1" + b"}" * 10000, b"9" * 5000,
              b'{"command": ' + b"9" * 400 + b"}", b"\xef\xbb\xbf{}"]
raw_body = st.one_of(st.sampled_from(RAW_BODIES), st.binary(max_size=200))

JSON_TYPES = ["application/json", "application/json; charset=utf-8", "application/json; charset=latin-1",
              "APPLICATION/JSON", "application/json;;;", "application/vnd.api+json"]
OTHER_TYPES = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=zz",
               "multipart/form-data", "", "*/*", "application/octet-stream", "\u00e9/\u00e9"]


def serialise(body, draw):
    """The JSON text of ``body``: ASCII-escaped or raw UTF-8, sometimes indented."""
    return json.dumps(body, ensure_ascii=draw(st.booleans()), indent=draw(st.sampled_from([None, None, 1])),
                      allow_nan=False)


def expand(text, sentinel):
    """Fill in the placeholders a strategy left in ``text`` (a str)."""
    for depth in DEPTHS:
        marker = json.dumps(DEEP.format(depth))
        if marker in text:
            text = text.replace(marker, "[" * depth + "]" * depth)
        text = text.replace(DEEP.format(depth), "[" * depth)
    return text.replace(SENTINEL, sentinel)


def weighted(*pairs):
    """sampled_from with weights: ``weighted(("a", 3), ("b", 1))``."""
    return st.sampled_from([value for value, weight in pairs for _ in range(weight)])

