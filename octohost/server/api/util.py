"""Small helpers every API view uses: errors as JSON, permission checks, body parsing."""

import errno
import functools
import math

from flask import current_app, g, jsonify, request

from octohost.util import limits

from ..auth import LoginThrottled


class ApiError(Exception):
    """Answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(status, message, headers=None):
    response = jsonify({"error": message})
    response.status_code = status
    response.headers.update(headers or {})
    return response


#: the write failed for lack of space: a condition of the server, not a bug, so not a plain 500
STORAGE_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


def storage_full_response(exc):
    """507 Insufficient Storage for a write that failed on a full disk (the stores change nothing
    in memory when their write fails), else None."""
    if getattr(exc, "errno", None) not in STORAGE_FULL:
        return None
    return error_response(507, f"Not enough disk space to save the change ({exc.strerror}); nothing was changed")


def checked_password(name, password):
    """The user if ``password`` is ``name``'s, else None; 429 with Retry-After while the login
    back-off for this client makes it wait (see :meth:`Authenticator.check_password`)."""
    try:
        return ctx().authenticator.check_password(name, password, request.remote_addr)
    except LoginThrottled as exc:
        raise ApiError(429, str(exc), {"Retry-After": str(math.ceil(exc.retry_after))}) from None


def ctx():
    return current_app.config["octohost.context"]


def identity():
    return g.identity


def denial_message(ident) -> str:
    """Why ``ident`` may not do something. The status is always 403, as in OctoPrint 1.11.8, which
    never answers 401: clients such as pyoctoprintapi treat only 403 as "bad credentials"."""
    if ident.invalid_key:
        return "Invalid API key"
    if ident.anonymous:
        return "Authentication required"
    return "Insufficient permissions"


def deny():
    raise ApiError(403, denial_message(identity()))


def check(*permissions):
    ident = identity()
    if not all(ident.has(p) for p in permissions):
        deny()


def requires(*permissions):
    """Decorator: the request's identity must hold every one of ``permissions``."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            check(*permissions)
            return view(*args, **kwargs)

        return wrapper

    return decorate


#: the attribute :func:`answers_from_memory` sets on a view (read by ``octohost.server.wsgi``)
ON_LOOP = "octohost_on_loop"


def answers_from_memory(view=None, *, while_=None):
    """Decorator: this GET view reads no file, waits for nothing and takes no lock held across
    I/O, so the server may answer it on its event loop without a worker thread (see
    ``octohost.server.wsgi``). ``while_(context)``: only while it holds (it is asked on the loop,
    before the view runs, and must itself be as quick). Outermost of the view's own decorators."""

    def mark(fn):
        setattr(fn, ON_LOOP, True if while_ is None else while_)
        return fn

    return mark(view) if view is not None else mark


def requires_login(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if identity().anonymous:
            deny()
        return view(*args, **kwargs)

    return wrapper


def json_body():
    """The request body as a JSON object, or 400 (415 when it is not JSON at all): strict (no
    NaN/Infinity), at most ``limits.MAX_DEPTH`` levels deep, numbers within ``limits.MAX_NUMBER``
    (the body's size is bounded by the server before it is read)."""
    if request.mimetype != "application/json":  # 415 as OctoPrint (Flask) answers it
        raise ApiError(415, "Expected content type application/json")
    try:
        data = limits.loads(request.get_data(cache=True))
    except ValueError as exc:
        raise ApiError(400, f"Malformed JSON body: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(400, "Malformed JSON body: expected an object")
    return data


def command_body(commands):
    """Parse ``{"command": name, ...}``; ``commands`` maps names to their required fields."""
    data = json_body()
    command = data.get("command")
    if not isinstance(command, str) or command not in commands:
        raise ApiError(400, f"command must be one of {', '.join(sorted(commands))}")
    missing = [f for f in commands[command] if f not in data]
    if missing:
        raise ApiError(400, f"{command} needs {', '.join(missing)}")
    return command, data


def number(data, key, minimum=None, maximum=None, integer=False, required=True):
    value = data.get(key)
    if value is None and not required:
        return None
    if not limits.number_in_range(value):
        raise ApiError(400, f"{key} must be a number of at most {limits.MAX_NUMBER} in magnitude")
    if integer and not isinstance(value, int):
        raise ApiError(400, f"{key} must be an integer")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ApiError(400, f"{key} must lie between {minimum} and {maximum}")
    return value


def string(data, key, required=True, max_length=1024):
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise ApiError(400, f"{key} must be a non-empty string")
    return value


def boolean(data, key, default=False):
    value = data.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise ApiError(400, f"{key} must be a boolean")


def query_int(name, default, minimum, maximum):
    """The integer query parameter ``name`` (``default`` if absent), or 400 outside the bounds."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw) if len(raw) <= 20 else None
    except ValueError:
        value = None
    if value is None:
        raise ApiError(400, f"{name} must be an integer")
    if not minimum <= value <= maximum:
        raise ApiError(400, f"{name} must lie between {minimum} and {maximum}")
    return value


def query_flag(name):
    return request.args.get(name, "false").lower() in ("true", "1", "yes")


JOB_WRITES_WAIT_SECONDS = 2


def after_job_writes(printer, read):
    """``read()`` once the printer's queued job writes are on disk: a job that just ended finishes
    its history row and clears its recovery record on a background thread, after its event, so a
    client reacting to the event would otherwise read the state before the end."""
    flush = getattr(printer, "flush", None)
    if flush is not None:
        flush(timeout=JOB_WRITES_WAIT_SECONDS)
    return read()


def no_content():
    return "", 204

