"""Slow and idle clients: half-sent requests and stalled bodies are closed after the configured
timeouts, oversized headers are refused, and a slow upload that keeps making progress is not cut off."""

import json
import os
import socket
import time

import pytest

from support import wait_until

TIMEOUT = 0.5


@pytest.fixture
def strict(start_server):
    return start_server(settings_values={"server.idleConnectionTimeout": TIMEOUT, "server.bodyTimeout": TIMEOUT,
                                         "server.maxHeaderSize": 8192})


def connect(running):
    sock = socket.create_connection(("127.0.0.1", running.server.port), timeout=10)
    sock.settimeout(10)
    return sock


def read_until_closed(sock, deadline=10):
    """Everything the server sends until it closes the connection; fails if it stays open past ``deadline``."""
    data = b""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        sock.settimeout(max(0.01, end - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            return data
        data += chunk
    raise AssertionError(f"the server kept the connection open for {deadline} s (got {data[:200]!r})")


@pytest.mark.parametrize("partial", [b"GET /api/vers", b"GET /api/version HTTP/1.1\r\nHost: x\r\nX-Slow: 1"])
def test_half_sent_requests_are_closed_after_the_idle_timeout(strict, partial):
    with connect(strict) as sock:
        sock.sendall(partial)
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        assert time.monotonic() - started >= TIMEOUT * 0.8


def test_idle_keep_alive_connections_are_closed(strict):
    with connect(strict) as sock:
        # a route that answers without a key (/api/version no longer does once an account exists)
        sock.sendall(b"GET /sockjs/info HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_until_closed(sock).startswith(b"HTTP/1.1 200")


def test_a_stalled_api_body_is_closed_after_the_body_timeout(strict):
    with connect(strict) as sock:
        sock.sendall(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"user\": ")
        assert b"200 OK" not in read_until_closed(sock)


def test_oversized_headers_are_refused(strict):
    with connect(strict) as sock:
        sock.sendall(b"GET /api/version HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        assert b"200 OK" not in read_until_closed(sock)


def _upload_request(running, body_size):
    boundary = b"slowslowslow"
    head = (b"--" + boundary + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.gcode\"\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n")
    tail = b"\r\n--" + boundary + b"--\r\n"
    payload = b"G1 X1\n" * (body_size // 6)
    body = head + payload + tail
    headers = (f"POST /api/files/local HTTP/1.1\r\nHost: x\r\nX-Api-Key: {running.keys['admin']}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary.decode()}\r\nContent-Length: {len(body)}\r\n"
               "Connection: close\r\n\r\n").encode()
    return headers, body


def test_a_slow_upload_that_keeps_progressing_is_not_cut_off(strict):
    headers, body = _upload_request(strict, 60000)
    pieces = [body[i:i + 6000] for i in range(0, len(body), 6000)]
    with connect(strict) as sock:
        sock.sendall(headers)
        started = time.monotonic()
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(TIMEOUT / 2)  # the client's pace, not synchronisation: slower than the body timeout in total
        assert time.monotonic() - started > 3 * TIMEOUT
        response = read_until_closed(sock)
    assert response.startswith(b"HTTP/1.1 201"), response[:300]
    assert json.loads(response.split(b"\r\n\r\n", 1)[1])["done"] is True


def test_a_stalled_upload_is_closed_after_the_body_timeout(strict):
    headers, body = _upload_request(strict, 60000)
    with connect(strict) as sock:
        sock.sendall(headers + body[:10000])
        assert b"201" not in read_until_closed(sock)
    uploads = strict.context.settings.folder("uploads")
    wait_until(lambda: not [name for name in os.listdir(uploads) if name.endswith(".tmp")])
    assert strict.get("/api/files?recursive=true").json()["files"] == []
