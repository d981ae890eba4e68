"""A Host header no URL can be built on answers 400 before any handler runs. Found by the fuzzer:
werkzeug raised building redirects and ``Location`` headers on a port out of range or a label
longer than DNS allows (a 500), and Tornado's WSGIContainer raised on a port that is not a number,
so the request was never answered."""

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
