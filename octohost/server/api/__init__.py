"""The REST API: a Flask app, run by ``octohost.server.wsgi`` (on a thread pool, or on the event
loop for the views that answer from memory).

Every request is authenticated first (``octohost.server.auth``); while no user exists only the
first-run endpoints answer; cookie-authenticated writes need the CSRF token; the plugins'
``server.api.before_request`` / ``after_request`` handlers run around each view. Anything a client
sends answers a JSON ``{"error": ...}`` with a 4xx code; a write that fails on a full disk answers
507 (the stores leave memory unchanged then); a 500 means a bug and is logged.
"""

import importlib
import logging

from flask import Flask, g, request
from werkzeug.exceptions import HTTPException

from octohost.compat import layer as octoprint_layer

from .util import ApiError, error_response, storage_full_response

log = logging.getLogger(__name__)

BLUEPRINT_MODULES = ("core", "settings", "access", "appkeys", "connection", "printer", "job", "files", "timelapse",
                     "profiles", "system", "history", "plugins", "pluginapi", "maintenance", "mqtt", "machine")

FIRST_RUN_ENDPOINTS = frozenset({"core.version", "core.server", "core.login", "core.current_user",
                                 "core.setup_admin", "appkeys.probe"})


def _plugin_functions(plugin_manager, hook):
    functions = []
    for identifier, result in plugin_manager.call(hook):
        for fn in result or []:
            if callable(fn):
                functions.append((identifier, fn))
            else:
                log.warning("plugin %s returned a non-callable from %s; skipped", identifier, hook)
    return functions


def api_blueprints():
    """The REST API's blueprints: the one route table, which the app and the fuzzing tests share."""
    return [importlib.import_module(f"{__name__}.{name}").blueprint for name in BLUEPRINT_MODULES]


def create_api_app(context):
    app = Flask("octohost.server.api", static_folder=None)
    app.config["octohost.context"] = context
    app.config["JSON_SORT_KEYS"] = False
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    octoprint_layer.prepare_flask_app(app, context.plugin_manager)
    for blueprint in api_blueprints():
        app.register_blueprint(blueprint)

    before = _plugin_functions(context.plugin_manager, "server.api.before_request")
    after = _plugin_functions(context.plugin_manager, "server.api.after_request")
    auth = context.authenticator

    def cors_enabled():
        return context.settings.get("api.allowCrossOrigin") or context.settings.get("server.allowCrossOrigin")

    @app.before_request
    def authenticate():
        if request.method == "OPTIONS" and cors_enabled():
            return "", 204
        g.identity = auth.identify(request.headers, request.cookies, request.args.get("apikey"))
        if context.first_run and request.endpoint not in FIRST_RUN_ENDPOINTS:
            raise ApiError(403, "Setup required: create the first admin with POST /api/setup/admin")
        if not auth.csrf_ok(g.identity, request.method, request.headers.get("X-CSRF-Token"),
                            request.cookies.get(auth.csrf_cookie)):
            raise ApiError(400, "CSRF validation failed: send the X-CSRF-Token header")
        for _identifier, fn in before:
            result = fn()
            if result is not None:
                return result
        return None

    @app.after_request
    def finish(response):
        for identifier, fn in after:
            try:
                response = fn(response) or response
            except Exception:
                log.exception("after_request handler of plugin %s raised; skipped", identifier)
        if cors_enabled() and request.headers.get("Origin"):
            response.headers["Access-Control-Allow-Origin"] = request.headers["Origin"]
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, X-Api-Key, Authorization, X-CSRF-Token"
            response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(ApiError)
    def api_error(exc):
        return error_response(exc.status, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        return error_response(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc):
        full = storage_full_response(exc)
        if full is not None:
            log.error("%s %s: %s", request.method, request.path, exc)
            return full
        log.exception("error in %s %s", request.method, request.path)
        return error_response(500, "Internal server error (logged)")

    return app
