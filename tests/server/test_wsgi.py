"""The REST API's container: views that answer from memory run on the event loop, the rest on a
worker thread in one hand-off; both answer alike. Over real HTTP on 127.0.0.1."""

import asyncio
import threading
import types
from concurrent.futures import ThreadPoolExecutor

import flask
import pytest
import requests
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets

from octohost.server.api.util import answers_from_memory
from octohost.server.wsgi import MAX_MATCHED_PATH, ApiContainer, LoopViews, run_wsgi

from support import wait_until

LOOP_THREAD = "octohost-server"  # Server.start_in_thread's loop


def spy(obj, name, threads):
    """Record the thread each call of ``obj.name`` from a REST view runs on (an instance attribute
    over the method; the daemon's own threads call it too)."""
    original = getattr(obj, name)

    def recording(*args, **kwargs):
        if flask.has_request_context():
            threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    setattr(obj, name, recording)


# -- the daemon's own views --------------------------------------------------------------------


def test_polled_state_and_the_job_answer_on_the_loop_but_a_recovery_record_takes_a_worker(start_server):
    running = start_server(connect_virtual=True)
    printer = running.context.printer
    wait_until(printer.is_operational, message="the virtual printer is connected")
    on_printer, on_job = [], []
    spy(printer, "get_current_temperatures", on_printer)
    spy(printer, "get_current_job", on_job)

    for path in ("/api/printer", "/api/printer?history=true&limit=2", "/api/printer/tool"):
        assert running.get(path).status_code == 200
    assert on_printer == [LOOP_THREAD] * 3
    assert running.get("/api/job").status_code == 200
    assert on_job and set(on_job) == {LOOP_THREAD}  # idle, and no recovery record
    # with a record, the view reads the file's entry and waits for a job's last writes
    printer.recovery.record("gone.gcode", "local", 10, reason="test")
    on_job.clear()
    assert running.get("/api/job").status_code == 200
    assert on_job and all(name.startswith("octohost-api") for name in on_job)
    printer.recovery.clear()
    on_job.clear()
    running.get("/api/job")
    assert set(on_job) == {LOOP_THREAD}
    # not found, refused and malformed requests are Flask's answers, on either path
    assert running.get("/api/printer", role=None).status_code == 403
    assert running.get("/api/printer?history=true&limit=x").status_code == 400
    assert running.get("/api/nothing-here").status_code == 404


def test_the_job_answers_on_the_loop_while_a_print_runs(start_server):
    running = start_server(connect_virtual=True)
    printer = running.context.printer
    wait_until(printer.is_operational, message="the virtual printer is connected")
    gcode = b"G4 P50\n" * 2000  # 100 s of dwells: paused long before its end
    assert running.post("/api/files/local", files={"file": ("dwell.gcode", gcode)},
                        data={"print": "true"}).status_code == 201
    wait_until(printer.is_printing, message="the print started")
    assert running.post("/api/job", json={"command": "pause", "action": "pause"}).status_code == 204
    wait_until(printer.is_paused, message="the print paused")
    threads = []
    spy(printer, "get_current_job", threads)
    body = running.get("/api/job").json()
    assert body["state"] == "Paused" and body["job"]["file"]["name"] == "dwell.gcode"
    assert threads and set(threads) == {LOOP_THREAD}
    printer.recovery.record("dwell.gcode", "local", 10, reason="test")  # a record does not matter while one runs
    threads.clear()
    running.get("/api/job")
    assert set(threads) == {LOOP_THREAD}
    assert running.post("/api/job", json={"command": "cancel"}).status_code == 204
    wait_until(lambda: not printer.is_printing() and not printer.is_paused(), message="the print ended")


def test_a_plugin_around_requests_keeps_every_view_on_a_worker(start_server):
    plugin = types.ModuleType("around")
    plugin.__plugin_hooks__ = {"octoprint.server.api.after_request": lambda *a, **k: [lambda response: response]}
    running = start_server(connect_virtual=True, plugins={"around": plugin})
    printer = running.context.printer
    wait_until(printer.is_operational, message="the virtual printer is connected")
    threads = []
    spy(printer, "get_current_temperatures", threads)
    assert running.get("/api/printer").status_code == 200
    assert threads and all(name.startswith("octohost-api") for name in threads)


# -- the container and the choice, with an app of their own -------------------------------------


class Context:
    """What a conditional mark asks; ``printing = None`` makes the question fail."""

    def __init__(self):
        self.printing = False

    def is_printing(self):
        if self.printing is None:
            raise RuntimeError("no printer to ask")
        return self.printing


def make_app():
    app = flask.Flask("wsgi-test")
    app.config["octohost.context"] = Context()

    @app.route("/memory")
    @answers_from_memory
    def memory():
        return flask.jsonify({"thread": threading.current_thread().name})

    @app.route("/while")
    @answers_from_memory(while_=lambda context: context.is_printing())
    def conditional():
        return flask.jsonify({"thread": threading.current_thread().name})

    @app.route("/worker", methods=["GET", "POST"])
    def worker():
        return flask.jsonify({"thread": threading.current_thread().name, "body": flask.request.get_data(as_text=True)})

    @app.route("/broken")
    @answers_from_memory
    def broken():
        raise RuntimeError("a bug")

    @app.route("/slash/")
    @answers_from_memory
    def slash():
        return "ok"

    @app.route("/deep/<path:rest>")
    @answers_from_memory
    def deep(rest):
        return rest

    return app


class NoPlugins:
    def __init__(self, hooks=()):
        self.hooks = set(hooks)

    def has_handlers(self, name):
        return name in self.hooks


def test_the_choice_follows_the_marks_methods_and_conditions():
    app = make_app()
    choose = LoopViews(app, NoPlugins())
    assert choose("GET", "/memory") and choose("HEAD", "/memory")
    assert not choose("POST", "/memory")  # the view takes no POST: Flask answers 405, on a worker
    assert not choose("GET", "/worker") and not choose("POST", "/worker")
    assert not choose("GET", "/nowhere") and not choose("GET", "/slash")  # 404, and a redirect to /slash/
    assert choose("GET", "/slash/")
    assert not choose("GET", "/while")
    app.config["octohost.context"].printing = True
    assert choose("GET", "/while")
    assert not LoopViews(app, NoPlugins({"accesscontrol.keyvalidator"}))("GET", "/memory")
    app.config["octohost.context"].printing = None  # the condition raises: the worker answers
    assert not LoopViews(app, NoPlugins())("GET", "/while")


def test_long_paths_are_left_to_the_worker_unmatched():
    choose = LoopViews(make_app(), NoPlugins())
    assert choose("GET", "/deep/short")
    assert not choose("GET", "/deep/" + "x" * MAX_MATCHED_PATH)  # its view is marked, but it is not looked up


@pytest.fixture
def served():
    """``make_app`` behind :class:`ApiContainer` on 127.0.0.1, the loop on a thread named "loop"."""
    app = make_app()
    pool = ThreadPoolExecutor(2, thread_name_prefix="worker")
    state = {}
    ready = threading.Event()

    def serve():
        asyncio.set_event_loop(asyncio.new_event_loop())
        state["loop"] = IOLoop.current()
        sockets = bind_sockets(0, "127.0.0.1")
        state["server"] = HTTPServer(ApiContainer(app, pool, LoopViews(app, NoPlugins())))
        state["server"].add_sockets(sockets)
        state["port"] = sockets[0].getsockname()[1]
        ready.set()
        state["loop"].start()

    thread = threading.Thread(target=serve, name="loop", daemon=True)
    thread.start()
    ready.wait(10)
    yield app, f"http://127.0.0.1:{state['port']}"
    state["loop"].add_callback(state["server"].stop)  # closes the listening socket
    state["loop"].add_callback(state["loop"].stop)
    thread.join(10)
    pool.shutdown()


def test_both_paths_answer_alike_over_http(served):
    app, url = served
    on_loop = requests.get(url + "/memory", timeout=10)
    on_worker = requests.get(url + "/worker", timeout=10)
    assert on_loop.json() == {"thread": "loop"}
    assert on_worker.json()["thread"].startswith("worker")
    for response in (on_loop, on_worker):
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "application/json"
        assert int(response.headers["Content-Length"]) == len(response.content)
        assert response.headers["Server"].startswith("TornadoServer/")
    head = requests.head(url + "/memory", timeout=10)
    assert head.status_code == 200 and head.content == b""
    assert requests.post(url + "/worker", data="abc", timeout=10).json()["body"] == "abc"
    redirect = requests.get(url + "/slash", allow_redirects=False, timeout=10)
    assert redirect.status_code == 308 and redirect.headers["Location"].endswith("/slash/")
    # a bug in a view on the loop is Flask's 500, and the loop goes on serving
    assert requests.get(url + "/broken", timeout=10).status_code == 500
    assert requests.get(url + "/memory", timeout=10).json() == {"thread": "loop"}


def test_run_wsgi_collects_the_whole_answer_and_closes_the_iterable():
    closed = []

    class Body:
        def __iter__(self):
            return iter([b"ab", b"", b"cd"])

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("201 Created", [("X-One", "1")])
        return Body()

    assert run_wsgi(app, {}) == ("201 Created", [("X-One", "1")], b"abcd")
    assert closed == [True]
    with pytest.raises(RuntimeError, match="start_response"):
        run_wsgi(lambda environ, start_response: [b"x"], {})
