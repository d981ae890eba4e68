"""The fuzzer's route descriptions match the server's routes, both ways.

A route the server gained is already fuzzed with generic bodies; this fails until fuzz_routes.py
says what a valid-ish request to it looks like (or, for a Tornado route, why it is not fuzzed over
HTTP). A description of a route that is gone fails too.
"""

from fuzz_routes import BODIES, PATH_PARAMS, TORNADO, flask_routes, rule_parameters, tornado_patterns


def test_every_rest_route_has_a_body_description():
    routes = {(endpoint, method) for _, method, endpoint in flask_routes()}
    described = {(endpoint, method) for endpoint, methods in BODIES.items() for method in methods}
    assert sorted(routes - described) == [], "describe these in fuzz_routes.BODIES"
    assert sorted(described - routes) == [], "these described routes no longer exist"


def test_every_path_parameter_has_values():
    names = {name for rule, _, _ in flask_routes() for _, name in rule_parameters(rule)}
    assert sorted(names - set(PATH_PARAMS)) == [], "add these to fuzz_routes.PATH_PARAMS"


def test_every_tornado_route_is_described(fuzz_target):
    application, _ = fuzz_target.server.make_application()
    patterns = set(tornado_patterns(application))
    assert sorted(patterns - set(TORNADO)) == [], "describe these in fuzz_routes.TORNADO"
    assert sorted(set(TORNADO) - patterns) == [], "these described routes no longer exist"
