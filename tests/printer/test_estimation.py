from types import SimpleNamespace

from octohost.printer.estimation import ORIGINS, PrintTimeEstimator, create_estimator


def run_print(estimator, true_total, stat_total=None, stat_type="analysis", steps=100):
    results = []
    for step in range(1, steps + 1):
        elapsed = true_total * step / steps
        progress = step / steps
        left, origin = estimator.estimate(progress, elapsed, elapsed, stat_total, stat_type)
        results.append((progress, elapsed, left, origin))
    return results


def test_wrong_analysis_converges_to_observed_rate():
    results = run_print(PrintTimeEstimator("local"), true_total=3600, stat_total=1800)
    errors = [abs((elapsed + left) - 3600) for _, elapsed, left, _ in results]
    assert errors[0] > 1000
    assert errors[60] < 1
    assert all(later <= earlier + 1e-6 for earlier, later in zip(errors, errors[1:], strict=False))
    assert results[10][3] == "mixed-analysis"
    assert results[80][3] == "estimate"
    assert all(origin in ORIGINS for *_, origin in results)


def test_without_statistics_linear_then_estimate():
    results = run_print(PrintTimeEstimator("local", window=5), true_total=1000)
    assert results[0][3] == "linear"
    assert results[-2][3] == "estimate"
    assert abs(results[50][2] - 490) < 1


def test_before_progress_statistics_or_nothing():
    estimator = PrintTimeEstimator("local")
    assert estimator.estimate(0, 0, 0, 600, "average") == (600, "average")
    assert estimator.estimate(0, 0, 0, None, None) == (None, None)


def test_factory_hook_replaces_estimator():
    class TwoHours:
        def __init__(self, job_type):
            self.job_type = job_type

        def estimate(self, *args):
            return 7200, "estimate"

    manager = SimpleNamespace(handlers=lambda name: (("broken", lambda: 1 / 0), ("twohours", lambda: TwoHours)))
    estimator = create_estimator(manager, "sdcard")
    assert isinstance(estimator, TwoHours) and estimator.job_type == "sdcard"
    assert isinstance(create_estimator(SimpleNamespace(handlers=lambda name: ()), "local"), PrintTimeEstimator)
