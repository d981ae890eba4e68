"""Every HTTP route, drawn from the server's own route tables, under hostile requests.

Each example is one request by one identity (API keys of each role, a session with and without
the CSRF token, malformed keys and cookies) with a valid-ish or mutated body, query and headers.
It fails on a 5xx, an answer slower than the bound, anything logged as an error or traceback,
and any file created, changed or removed outside the base folder.
"""

import pytest
from fuzz_requests import describe, flask_request, tornado_request
from fuzz_routes import BODIES, TORNADO, flask_routes
from hypothesis import given, settings

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Generating overly large repr")]

FLASK = flask_routes()
TORNADO_FUZZED = sorted((pattern, method) for pattern, route in TORNADO.items() if not route.skip
                        for method in route.methods)


def examples(endpoint, method):
    """Routes that take a body get twice the examples, the others half: their surface is the
    identity, query and headers only."""
    profile = settings.get_profile("fuzz")
    takes_body = BODIES.get(endpoint, {}).get(method, "generic") is not None
    return max(1, profile.max_examples * 2 if takes_body else profile.max_examples // 2)


@pytest.mark.parametrize("rule,method,endpoint", FLASK, ids=[f"{m} {r}" for r, m, _ in FLASK])
def test_rest_route_survives_hostile_requests(fuzz_target, rule, method, endpoint):
    @settings(settings.get_profile("fuzz"), max_examples=examples(endpoint, method))
    @given(spec=flask_request(rule, method, endpoint))
    def one_request(spec):
        fuzz_target.heal()
        fuzz_target.send(spec, describe)

    one_request()


@pytest.mark.parametrize("pattern,method", TORNADO_FUZZED, ids=[f"{m} {p}" for p, m in TORNADO_FUZZED])
def test_tornado_route_survives_hostile_requests(fuzz_target, pattern, method):
    route = TORNADO[pattern]

    @settings(settings.get_profile("fuzz"))
    @given(spec=tornado_request(route).filter(lambda s: s.method == method))
    def one_request(spec):
        fuzz_target.heal()
        fuzz_target.send(spec, describe)

    one_request()
