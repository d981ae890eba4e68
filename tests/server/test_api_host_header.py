"""A Host header no URL can be built on answers 400 before any handler runs. Found by the fuzzer:
werkzeug raised building redirects and ``Location`` headers on a port out of range or a label
longer than DNS allows (a 500), and Tornado's WSGIContainer raised on a port that is not a number,
so the request was never answered."""

import json
import select
import socket

import pytest
import requests

BAD_HOSTS = ["127.0.0.1:99999", "localhost:abc", "a" * 300, "a..b", "["]


@pytest.mark.parametrize("host", BAD_HOSTS)
@pytest.mark.parametrize("method,path", [("GET", "/api/access/users//settings"), ("GET", "/api/version"),
                                         ("POST", "/plugin/appkeys/request"), ("GET", "/api/files/local"),
                                         ("GET", "/static/js/app.js")])
def test_unusable_host_header_is_a_client_error(shared_server, host, method, path):
    response = requests.request(method, shared_server.url + path, headers={"Host": host, "X-Api-Key":
                                shared_server.keys["admin"]}, json={"app": "x"}, timeout=10)
    assert response.status_code == 400, response.text
    assert "Host" in response.json()["error"]


def test_usual_host_headers_still_work(shared_server):
    for host in ("localhost", f"127.0.0.1:{shared_server.server.port}", "[::1]:5000", "printer.local", "xn--9ca"):
        response = requests.get(shared_server.url + "/api/version", timeout=30,
                                headers={"Host": host, "X-Api-Key": shared_server.keys["viewer"]})
        assert response.status_code == 200, (host, response.text)


def test_head_request_with_an_unusable_host_gets_the_answer_without_a_body(shared_server):
    response = requests.head(shared_server.url + "/downloads/files/local/x.gcode", headers={"Host": "h" * 300},
                             timeout=10)
    assert response.status_code == 400
    assert response.content == b""


def length(answer):
    """The Content-Length of an HTTP answer's head."""
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    return int(head.split("content-length:")[1].split("\r\n")[0])


def test_the_refusal_waits_for_the_body_so_the_client_reads_it(shared_server):
    """Answered and closed before its body was read, the connection was reset by the kernel (unread
    bytes), sometimes before the client had read the answer (the fuzzer saw "connection reset")."""
    port = shared_server.server.port
    for _ in range(10):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"POST /plugin/appkeys/request HTTP/1.1\r\nHost: %s%s%n\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 20\r\n\r\n")
            readable, _, _ = select.select([sock], [], [], 0.3)
            assert not readable  # no answer while the declared body is still to come
            sock.sendall(b'{"app": "x", "u": 1}')
            answer = b""
            while b"\r\n\r\n" not in answer or len(answer.partition(b"\r\n\r\n")[2]) < length(answer):
                chunk = sock.recv(65536)
                assert chunk, f"closed before the whole answer: {answer!r}"
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 ")
        assert "Host" in json.loads(body)["error"]
