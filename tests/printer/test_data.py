from octohost.comm.states import State
from octohost.printer.data import contract_state, job_data, progress_data, selected_file, state_flags


def test_contract_state_maps_transitional_states():
    assert contract_state(State.CANCELLING) == "PRINTING"
    assert contract_state(State.FINISHING) == "PRINTING"
    assert contract_state(State.PAUSED) == "PAUSED"
    assert contract_state(State.CLOSED_WITH_ERROR) == "CLOSED_WITH_ERROR"


def test_flags():
    flags = state_flags(State.PAUSING, True)
    assert flags["printing"] and flags["pausing"] and flags["operational"] and flags["sdReady"]
    assert not flags["ready"] and not flags["paused"] and not flags["closedOrError"]
    closed = state_flags(State.CLOSED_WITH_ERROR, False)
    assert closed["closedOrError"] and closed["error"] and not closed["operational"]


def test_job_data_per_profile():
    file = selected_file("a/b.gcode", "local", size=10)
    details = {"gcodeAnalysis": {"estimatedPrintTime": 100, "filament": {"tool0": {"length": 5}}},
               "statistics": {"averagePrintTime": {"mk3": 90}, "lastPrintTime": {"mk3": 95}}}
    job = job_data(file, details, "mk3", "alice")
    assert job["file"]["name"] == "b.gcode" and job["averagePrintTime"] == 90 and job["lastPrintTime"] == 95
    assert job_data(file, details, "other", None)["averagePrintTime"] is None
    assert job_data(None, None, None, None)["file"]["name"] is None


def test_progress_data():
    status = {"size": 200, "filepos": 50}
    assert progress_data(status, None, 12.7, (30.2, "linear")) == {
        "completion": 25.0, "filepos": 50, "printTime": 12, "printTimeLeft": 30, "printTimeLeftOrigin": "linear"}
    assert progress_data(None, None, None, (None, None))["completion"] is None
