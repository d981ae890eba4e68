"""The comm state machine: the table of allowed changes and the one way to make them."""

import logging

from octohost.comm.states import STATE_TEXT, TRANSITIONS, State, StateMachine


def test_every_state_has_a_row_and_a_text_and_every_target_is_a_state():
    states = {value for name, value in vars(State).items() if name.isupper()}
    assert set(STATE_TEXT) == states
    # OFFLINE, UNKNOWN and PAUSING are contract ids the comm layer never enters
    assert set(TRANSITIONS) == states - {State.OFFLINE, State.UNKNOWN, State.PAUSING}
    for source, targets in TRANSITIONS.items():
        assert targets <= states, source


def test_a_change_in_the_table_is_made_and_reported():
    changes = []
    machine = StateMachine(changes.append)
    assert machine.transition(State.OPEN_SERIAL)
    assert machine.transition(State.CONNECTING)
    assert machine.transition(State.CONNECTING)  # staying is no change
    assert machine.state == State.CONNECTING
    assert changes == [State.OPEN_SERIAL, State.CONNECTING]


def test_a_change_not_in_the_table_is_refused_and_logged(caplog, no_refused_comm_transitions):
    changes = []
    machine = StateMachine(changes.append)
    machine.transition(State.CLOSED)
    with caplog.at_level(logging.ERROR, logger="octohost.comm.states"):
        assert not machine.transition(State.PRINTING)
        assert not StateMachine(changes.append).transition(State.OPERATIONAL)  # NONE -> OPERATIONAL skips the handshake
    assert machine.state == State.CLOSED
    assert changes == [State.CLOSED]
    assert "CLOSED -> PRINTING refused" in caplog.text
    assert "NONE -> OPERATIONAL refused" in caplog.text
    no_refused_comm_transitions.messages.clear()  # expected here; the autouse check is for the others


def test_a_job_can_only_start_from_operational():
    assert State.STARTING in TRANSITIONS[State.OPERATIONAL]
    for state in (State.CONNECTING, State.TRANSFERING_FILE, State.CANCELLING, State.CLOSED):
        assert State.STARTING not in TRANSITIONS[state]
