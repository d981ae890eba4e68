"""Whole requests as Hypothesis draws them: who asks, what path, query, headers and body.

A drawn :class:`Spec` still names its identity (``"admin"``, ``"session"``, ...) and may hold
placeholders; the harness turns it into bytes on the wire with the running server's keys.
"""

import json
import urllib.parse
from dataclasses import dataclass, field

from fuzz_routes import (
    BODIES,
    GENERIC_BODY,
    GENERIC_PATH_PARAM,
    PATH_PARAMS,
    QUERIES,
    file_paths,
    fill_rule,
    flag,
    rule_parameters,
)
from fuzz_values import JSON_TYPES, OTHER_TYPES, mutated, nasty_text, plain_text, raw_body, serialise, weighted
from hypothesis import strategies as st

IDENTITIES = weighted(("admin", 12), ("user", 3), ("viewer", 2), ("victim", 2), ("anonymous", 2), ("session", 3),
                      ("session_nocsrf", 1), ("session_badcsrf", 1), ("badkey", 2), ("badcookie", 1))
KEY_VIA = weighted(("header", 4), ("bearer", 1), ("query", 1))


@dataclass
class Spec:
    method: str
    path: str
    identity: str = "anonymous"
    key_via: str = "header"
    bad_key: object = None
    query: list = field(default_factory=list)
    headers: list = field(default_factory=list)
    body: bytes = None
    content_type: str = None


def quote(value, path_converter):
    """URL-quote a path parameter; a ``path:`` one keeps its slashes (``../`` goes out raw)."""
    return urllib.parse.quote(str(value), safe="/" if path_converter else "")


def header_value(text):
    """A header value as bytes (UTF-8 when it is not Latin-1), without control characters: Tornado
    refuses those with a 400 and closes the connection, which races the client still sending."""
    text = "".join(c if c == "\t" or (" " <= c != "\x7f") else " " for c in text)
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace")


header_text = st.one_of(nasty_text(), st.integers(100, 8000).map(lambda n: "h" * n))
EXTRA_HEADERS = {
    "Origin": st.sampled_from(["http://evil.example", "null", ""]) | header_text,
    "Host": st.sampled_from(["evil.example", "[::1]:80", "a" * 300, "127.0.0.1:99999", "localhost:abc", "",
                             "ex ample"]) | header_text,
    "Accept-Encoding": st.sampled_from(["gzip", "br, gzip;q=0", "identity;q=0", "*"]),
    "Range": st.sampled_from(["bytes=0-1", "bytes=5-2", "bytes=-0", "bytes=0-", "bytes=99999999999999999999-",
                              "bytes=0-1,2-3", "garbage"]),
    "If-Modified-Since": st.sampled_from(["Thu, 01 Jan 1970 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"]) |
    header_text,
    "If-None-Match": st.sampled_from(['"x"', "*", 'W/"1-2"']) | header_text,
    "X-Forwarded-For": header_text,
    "Accept-Language": st.sampled_from(["de", "*", "x;q=abc"]) | header_text,
    "Authorization": st.sampled_from(["Basic Zm9vOmJhcg==", "Bearer", "Bearer ", "Digest x"]) | header_text,
    "X-CSRF-Token": header_text,
    "Cookie": st.sampled_from(["a=b", "session_P1=x", "=", ";;;", '"']) | header_text,
    "Connection": st.sampled_from(["close", "keep-alive", "upgrade"]),
    "Upgrade": st.sampled_from(["websocket", "h2c"]),
}
# no Transfer-Encoding: beside a Content-Length Tornado answers 400 and closes at once, racing the
# client that is still sending the body (a reset, not a server bug)


@st.composite
def extra_headers(draw):
    names = draw(st.lists(st.sampled_from(sorted(EXTRA_HEADERS)), max_size=3, unique=True))
    headers = [(name, header_value(draw(EXTRA_HEADERS[name]))) for name in names]
    if draw(st.integers(0, 9)) == 0:
        headers.append((draw(st.sampled_from(["X-Fuzz", "X-Api-Key-", "x-octohost-upload-token"])),
                        header_value(draw(header_text))))
    return headers


bad_keys = st.one_of(nasty_text(), st.sampled_from(["\u00e9" * 20, "key\u2603", "\x7f", " ", "k" * 8000]),
                     st.integers(100, 8000).map(lambda n: "k" * n))


@st.composite
def query_pairs(draw, known):
    pairs = [(name, draw(strategy)) for name, strategy in known.items() if draw(st.booleans())]
    for _ in range(draw(st.integers(0, 2))):
        name = draw(st.sampled_from(["x", "apikey", "limit", "recursive", ""]) | plain_text)
        pairs.append((name, draw(nasty_text())))
    return pairs


@st.composite
def json_body(draw, valid):
    """A body for a JSON route: mostly a mutated valid-ish object, sometimes raw garbage."""
    choice = draw(weighted(("valid", 3), ("mutated", 6), ("raw", 1)))
    if choice == "raw":
        body = draw(raw_body)
    else:
        data = draw(valid)
        if choice == "mutated":
            data = draw(mutated(data))
        body = serialise(data, draw).encode("utf-8", errors="surrogatepass")
    content_type = draw(st.one_of(weighted(*[(t, 1) for t in JSON_TYPES], ("application/json", 20)),
                                  st.sampled_from(OTHER_TYPES), st.none()))
    return body, content_type


MULTIPART_FIELDS = {"path": file_paths, "select": flag, "print": weighted(("false", 5), ("true", 1)),
                    "noOverwrite": flag, "foldername": file_paths, "userdata": nasty_text(),
                    "file.path": st.sampled_from(["/etc/passwd", "@@SENTINEL@@/victim.txt"])}
FILE_NAMES = st.one_of(st.sampled_from(["new.gcode", "fuzz.gcode", "model.stl", "x.txt", "noext", ".gcode"]),
                       file_paths)


@st.composite
def multipart_body(draw):
    """A multipart upload: a file with a hostile name and form fields; sometimes malformed."""
    boundary = draw(st.sampled_from(["fuzzboundary", "a" * 70, "-", "b" * 200, "x y"]))
    parts = []
    if draw(st.integers(0, 4)):
        name = draw(FILE_NAMES).replace('"', "%22").replace("\r", "").replace("\n", "")
        content = draw(st.sampled_from([b"G28\nG1 X1\n", b"", b"\x00\xff" * 10, b"M117 x\n" * 50]))
        field_name = draw(weighted(("file", 9), ("other", 1)))
        parts.append((f'form-data; name="{field_name}"; filename="{name}"', content))
    for name in draw(st.lists(st.sampled_from(sorted(MULTIPART_FIELDS)), max_size=3, unique=True)):
        value = draw(MULTIPART_FIELDS[name]).replace("\r", "").replace("\n", "")
        parts.append((f'form-data; name="{name}"', value.encode("utf-8", errors="surrogatepass")))
    body = b"".join(b"--" + boundary.encode() + b"\r\nContent-Disposition: " +
                    disposition.encode("utf-8", errors="surrogatepass") + b"\r\n\r\n" + content + b"\r\n"
                    for disposition, content in parts) + b"--" + boundary.encode() + b"--\r\n"
    damage = draw(weighted(("none", 8), ("truncate", 1), ("garbage", 1)))
    if damage == "truncate":
        body = body[: draw(st.integers(0, len(body)))]
    elif damage == "garbage":
        body = draw(raw_body)
    content_type = draw(weighted((f"multipart/form-data; boundary={boundary}", 8), ("multipart/form-data", 1),
                                 ("application/json", 1)))
    return body, content_type


@st.composite
def request_spec(draw, method, path, body_kind, known_query=None):
    """A whole request to ``path`` (already filled in): identity, query, headers, body."""
    spec = Spec(method=method, path=path, identity=draw(IDENTITIES), key_via=draw(KEY_VIA))
    if spec.identity == "badkey":
        spec.bad_key = draw(bad_keys)
    elif spec.identity == "badcookie":
        spec.bad_key = draw(nasty_text())
    spec.query = draw(query_pairs(known_query or {}))
    spec.headers = draw(extra_headers())
    if body_kind == "multipart":
        spec.body, spec.content_type = draw(multipart_body())
    elif body_kind is not None:
        spec.body, spec.content_type = draw(json_body(body_kind))
    elif draw(st.integers(0, 5)) == 0:
        spec.body, spec.content_type = draw(json_body(GENERIC_BODY))
    return spec


@st.composite
def flask_request(draw, rule, method, endpoint):
    """A request for one REST API route: path parameters per :data:`PATH_PARAMS`, body per :data:`BODIES`."""
    values = {}
    for converter, name in rule_parameters(rule):
        value = draw(PATH_PARAMS.get(name, GENERIC_PATH_PARAM))
        values[name] = quote(value, converter == "path") if draw(weighted((True, 9), (False, 1))) else \
            urllib.parse.quote(str(value), safe="/.%")
    described = BODIES.get(endpoint, {})
    body = described.get(method, GENERIC_BODY) if endpoint in BODIES else GENERIC_BODY
    kind = "multipart" if body == "multipart" else body
    return draw(request_spec(method, fill_rule(rule, values), kind, QUERIES.get(endpoint)))


@st.composite
def tornado_request(draw, route):
    method = draw(st.sampled_from(route.methods))
    path = route.example
    if route.path is not None:
        path = path.format(quote(draw(route.path), True))
    kind = route.kind
    if kind == "json":
        kind = GENERIC_BODY if method != "GET" else None
    return draw(request_spec(method, path, kind, route.query))


def describe(spec):
    """A short, reproducible account of a request for failure messages."""
    return json.dumps({"method": spec.method, "path": spec.path, "identity": spec.identity, "via": spec.key_via,
                       "bad_key": spec.bad_key if not isinstance(spec.bad_key, str) else spec.bad_key[:200],
                       "query": spec.query, "headers": [(n, v[:200].decode("latin-1")) for n, v in spec.headers],
                       "content_type": spec.content_type,
                       "body": None if spec.body is None else spec.body[:600].decode("utf-8", errors="replace")},
                      ensure_ascii=True)
