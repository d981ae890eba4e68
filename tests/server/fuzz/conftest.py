"""One fuzzing target (live server, connected virtual printer, sentinel folder) per test module."""

import contextlib
import os

import hypothesis.core
import hypothesis.internal.conjecture.engine
import pytest
from fuzz_harness import FuzzTarget
from hypothesis import HealthCheck, Phase, settings

#: examples per route; OCTOHOST_FUZZ_EXAMPLES raises it for a longer local run, OCTOHOST_FUZZ_RANDOM=1
#: draws new examples each run (CI draws the same ones every time)
EXAMPLES = int(os.environ.get("OCTOHOST_FUZZ_EXAMPLES", "12"))

#: shrinking a failure to its smallest form can take minutes per route: opt in with OCTOHOST_FUZZ_SHRINK=1
#: (without it a failure shows the first request that broke, with the server's traceback)
PHASES = tuple(Phase) if os.environ.get("OCTOHOST_FUZZ_SHRINK") == "1" else (Phase.explicit, Phase.generate)

settings.register_profile(
    "fuzz", max_examples=EXAMPLES, deadline=None, derandomize=os.environ.get("OCTOHOST_FUZZ_RANDOM") != "1",
    database=None, print_blob=True, phases=PHASES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture, HealthCheck.large_base_example])


@contextlib.contextmanager
def _production_recursion_limit():
    """Hypothesis raises the interpreter's recursion limit while it runs an example; the server
    under test shares this interpreter, so it would survive nesting that breaks it in production
    (and Python 3.11's compiler was seen tripping over the changing limit). Keep the limit as is."""
    modules = (hypothesis.core, hypothesis.internal.conjecture.engine)
    patched = [(module, "ensure_free_stackframes") for module in modules if hasattr(module, "ensure_free_stackframes")]
    saved = [getattr(module, name) for module, name in patched]
    for module, name in patched:
        setattr(module, name, contextlib.nullcontext)
    try:
        yield
    finally:
        for (module, name), value in zip(patched, saved, strict=True):
            setattr(module, name, value)


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory, users_template):
    with _production_recursion_limit():
        target = FuzzTarget(tmp_path_factory.mktemp("fuzz"), users_template)
        yield target
        target.close()
