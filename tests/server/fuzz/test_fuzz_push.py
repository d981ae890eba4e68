"""The push socket under hostile frames: raw websocket, SockJS-framed websocket and SockJS xhr.

Each example opens a connection, sends a drawn sequence of frames (a real login, subscriptions with
odd filters, throttles of every type, garbage, deep and huge JSON), then checks that a socket that
only received well-formed frames still answers, that nothing was logged as an error or traceback
and that no file outside the base folder changed. SockJS's own protocol answers broken xhr_send
JSON with a 500 ("Broken JSON encoding."); that one answer is allowed.
"""

import json
import urllib.parse
import uuid

import pytest
import requests
import websocket
from fuzz_harness import ANSWER_BOUND, FuzzFailure
from fuzz_values import DEEP, HUGE_INTS, expand, nasty, nasty_text, plain_text, weighted
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Generating overly large repr")]

#: replaced by ``admin:<session id>`` of the fixture's login
AUTH = "@@AUTH@@"
PATTERNS = ["M105", ".*", "^Recv", "(?i)ok", "[", "(", "\\", "(a|b)*c", "x{2,1}", "(?P<n>a)(?P=n)", "[^\\x00]+",
            "^(\\w+\\s?)*$", "(.*a){20}", "(\\d+)+x"]
log_rule = st.one_of(st.booleans(), st.sampled_from(PATTERNS), plain_text, nasty)
subscription = st.fixed_dictionaries({}, optional={
    "state": st.one_of(st.booleans(), st.fixed_dictionaries({}, optional={"logs": log_rule, "messages": nasty}), nasty),
    "events": st.one_of(st.booleans(), st.lists(st.sampled_from(["PrintStarted", "Connected"]) | plain_text,
                                                max_size=3), nasty),
    "plugins": st.one_of(st.booleans(), st.lists(plain_text, max_size=3), nasty)})
message = st.one_of(
    st.just({"auth": AUTH}),
    st.fixed_dictionaries({"auth": st.one_of(nasty_text(), st.sampled_from(["admin:", ":", "admin:x" * 500]), nasty)}),
    st.fixed_dictionaries({"subscribe": subscription}),
    st.fixed_dictionaries({"subscribe": nasty}),
    st.fixed_dictionaries({"throttle": st.one_of(st.integers(-5, 200), st.sampled_from(HUGE_INTS), nasty)}),
    st.dictionaries(plain_text, nasty, max_size=3),
)
text_frame = st.one_of(message.map(lambda m: json.dumps(m, allow_nan=False)),
                       st.sampled_from(["", "nonsense", "[]", "null", "5", "{", json.dumps(DEEP.format(10000)),
                                        '{"auth": ' + "9" * 400 + "}", '{"throttle": ' + "9" * 400 + "}",
                                        '{"subscribe": {"state": {"logs": "' + "a" * 5000 + '"}}}']),
                       nasty_text(), st.integers(1000, 300_000).map(lambda n: json.dumps({"auth": "x" * n})))
frames = st.lists(st.tuples(weighted(("text", 9), ("binary", 1)), text_frame), min_size=1, max_size=6)


def fill(text, target):
    return expand(text, target.sentinel).replace(AUTH, f"admin:{target.session}")


def _connect(url):
    try:
        return websocket.create_connection(url, timeout=ANSWER_BOUND, skip_utf8_validation=True)
    except (websocket.WebSocketException, OSError) as exc:
        raise FuzzFailure(f"could not open {url}: {exc}") from None


def _until(ws, predicate, what):
    """Read frames until ``predicate(frame)``; the socket's timeout bounds each read."""
    for _ in range(200):
        try:
            frame = ws.recv()
        except websocket.WebSocketTimeoutException:
            raise FuzzFailure(f"no {what} within {ANSWER_BOUND} s") from None
        except (websocket.WebSocketConnectionClosedException, ConnectionError) as exc:
            raise FuzzFailure(f"the socket closed before {what}: {exc!r}") from None
        if predicate(frame):
            return frame
    raise FuzzFailure(f"no {what} in 200 frames")


def _send_all(ws, drawn, target, wrap=lambda text: text):
    for kind, text in drawn:
        text = wrap(fill(text, target))
        try:
            if kind == "binary":
                ws.send_binary(text.encode("utf-8", errors="surrogatepass"))
            else:
                ws.send(text.encode("utf-8", errors="surrogatepass"), opcode=websocket.ABNF.OPCODE_TEXT)
        except (websocket.WebSocketException, ConnectionError):
            return False
    return True


def _probe_raw(ws):
    """A stale login must be answered with reauthRequired: the socket still works."""
    try:
        ws.send(json.dumps({"auth": "nobody:nothing"}))
    except (websocket.WebSocketException, ConnectionError) as exc:
        raise FuzzFailure(f"the socket closed after the frames: {exc!r}") from None
    _until(ws, lambda frame: "reauthRequired" in frame, "reauthRequired answer")


@settings(settings.get_profile("fuzz"), max_examples=max(4 * settings.get_profile("fuzz").max_examples, 1))
@given(drawn=frames)
def test_raw_websocket_survives_hostile_frames(fuzz_target, drawn):
    fuzz_target.heal()
    with fuzz_target.failing_with_logs():
        ws = _connect(fuzz_target.url.replace("http", "ws") + "/sockjs/websocket")
        try:
            _until(ws, lambda frame: "connected" in frame, "connected message")
            if _send_all(ws, drawn, fuzz_target):
                _probe_raw(ws)
        finally:
            ws.close()
    fuzz_target.check_quiet(lambda: f"raw websocket frames {drawn!r}"[:3000])


def _framed(drawn_kind, text):
    if drawn_kind == "binary":
        return text
    return json.dumps([text])


@settings(settings.get_profile("fuzz"), max_examples=max(4 * settings.get_profile("fuzz").max_examples, 1))
@given(drawn=frames, wrap=weighted(("sockjs", 4), ("bare", 1)))
def test_sockjs_websocket_survives_hostile_frames(fuzz_target, drawn, wrap):
    fuzz_target.heal()
    with fuzz_target.failing_with_logs():
        ws = _connect(fuzz_target.url.replace("http", "ws") + f"/sockjs/000/{uuid.uuid4().hex[:8]}/websocket")
        try:
            _until(ws, lambda frame: frame == "o", "open frame")
            framed = [(kind, _framed(kind if wrap == "sockjs" else "binary", text)) for kind, text in drawn]
            well_formed = wrap == "sockjs" and all(kind == "text" for kind, _ in drawn)
            if _send_all(ws, framed, fuzz_target) and well_formed:
                ws.send(json.dumps([json.dumps({"auth": "nobody:nothing"})]))
                _until(ws, lambda frame: "reauthRequired" in frame, "reauthRequired answer")
        finally:
            ws.close()
    fuzz_target.check_quiet(lambda: f"sockjs websocket frames {drawn!r} ({wrap})"[:3000])


#: what the SockJS protocol itself answers with a 500 (its test suite demands it)
SOCKJS_500 = (b"Broken JSON encoding.", b"Payload expected.")


@settings(settings.get_profile("fuzz"), max_examples=max(2 * settings.get_profile("fuzz").max_examples, 1))
@given(drawn=frames, raw=st.booleans(), transport=st.sampled_from(["xhr", "jsonp"]))
def test_sockjs_xhr_survives_hostile_frames(fuzz_target, drawn, raw, transport):
    fuzz_target.heal()
    base = f"{fuzz_target.url}/sockjs/000/{uuid.uuid4().hex[:8]}"
    try:
        opened = requests.post(f"{base}/xhr", timeout=ANSWER_BOUND)
        assert opened.text.startswith("o"), opened.text
        for kind, text in drawn:
            text = fill(text, fuzz_target)
            payload = text if raw or kind == "binary" else json.dumps([text])
            data = payload.encode("utf-8", errors="surrogatepass")
            if transport == "jsonp":
                form = b"d=" + urllib.parse.quote_from_bytes(data).encode()
                response = requests.post(f"{base}/jsonp_send", data=form, timeout=ANSWER_BOUND,
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            else:
                response = requests.post(f"{base}/xhr_send", data=data, timeout=ANSWER_BOUND)
            if response.status_code >= 500 and response.content not in SOCKJS_500:
                raise FuzzFailure(f"{transport}_send answered {response.status_code} {response.content[:300]!r} "
                                  f"to {payload[:500]!r}")
    except requests.Timeout:
        raise FuzzFailure(f"no answer within {ANSWER_BOUND} s to {drawn!r}"[:3000]) from None
    fuzz_target.check_quiet(lambda: f"sockjs {transport} frames {drawn!r}"[:3000])
