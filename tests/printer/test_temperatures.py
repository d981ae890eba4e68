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


def test_shorter_cutoff_applies_to_next_reading():
    history = TemperatureHistory(cutoff_minutes=30)
    for minute in range(10):
        history.add({"bed": {"actual": minute, "target": 0}}, timestamp=minute * 60)
    history.set_cutoff(2)
    history.add({"bed": {"actual": 10, "target": 0}}, timestamp=600)
    assert [entry["time"] for entry in history.as_list()] == [480, 540, 600]
