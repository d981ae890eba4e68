"""The sampled ok -> next line histogram."""

from octohost.comm.turnaround import BOUNDS, Histogram


def test_observations_land_in_cumulative_buckets():
    histogram = Histogram()
    for seconds in (0.000005, 0.00003, 0.00003, 0.2):
        histogram.observe(seconds)
    result = histogram.cumulative()
    buckets = dict(result["buckets"])
    assert buckets[repr(BOUNDS[0])] == 1
    assert buckets["5e-05"] == 3
    assert buckets["0.1"] == 3 and buckets["+Inf"] == 4
    assert abs(result["sum"] - 0.200065) < 1e-9
    assert [count for _, count in result["buckets"]] == sorted(count for _, count in result["buckets"])
