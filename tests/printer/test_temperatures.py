from octohost.printer.temperatures import TemperatureHistory


def test_history_keeps_cutoff_window():
    history = TemperatureHistory(cutoff_minutes=30)
    for minute in range(0, 61):
        history.add({"tool0": {"actual": minute, "target": 200}}, timestamp=1000 + minute * 60)
    entries = history.as_list()
    assert entries[0]["time"] == 1000 + 30 * 60
    assert entries[-1] == {"time": 1000 + 60 * 60, "tool0": {"actual": 60, "target": 200}}
    assert len(entries) == 31
    assert history.latest()["tool0"]["actual"] == 60
