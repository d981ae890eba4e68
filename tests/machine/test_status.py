"""Status codes: ranges, every state has one, errors and firmware lines map to the right code,
and the README's table is the code's table."""

import os
import re

import pytest

from octohost.comm.states import STATE_TEXT, State
from octohost.machine.status import CODES, classify_error, code_for_state, firmware_condition

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def test_codes_sit_in_their_ranges_with_a_colour():
    for code, entry in CODES.items():
        assert 100 <= code < 600 and entry.code == code
        assert entry.color in {"success", "primary", "info", "secondary", "warning", "danger", "dark"}
        assert entry.label and entry.text.endswith(".")


@pytest.mark.parametrize("state", sorted(STATE_TEXT))
def test_every_state_has_a_code(state):
    code = code_for_state(state)
    if state in (State.ERROR, State.CLOSED_WITH_ERROR, State.UNKNOWN):
        assert code == 500  # an error state takes its error's code instead
    else:
        assert 100 <= code < 200


@pytest.mark.parametrize("message, code", [
    ("Lost the connection to the printer on /dev/ttyACM0: [Errno 5] it was disconnected", 404),
    ("Could not open the port /dev/x at 115200 baud: could not open /dev/x: no such device — is the printer "
     "plugged in and switched on?", 401),
    ("Could not open the port /dev/x at 115200 baud: could not open /dev/x: permission denied — is the user in "
     "the dialout group?", 402),
    ("Could not open the port socket://h:1 at 115200 baud: could not open socket://h:1: connection refused — is "
     "the serial bridge running on that host and port?", 402),
    ("The printer on /dev/x did not answer within 10 s. Wrong port or baud rate?", 403),
    ("The printer stopped answering: no response for 30 s, 3 times in a row. Is it still connected and "
     "switched on?", 403),
    ("The printer restarted unexpectedly (it sent 'start') and lost the print; the connection was closed.", 304),
    ("The printer halted: Printer halted. kill() called!", 302),
    ("Closing serial port due to emergency stop M112.", 302),
    ("The printer reported an error: Thermal Runaway, system stopped! Heater_ID: 0", 301),
    ("The printer halted: MAXTEMP triggered, system stopped! Heater_ID: bed", 301),
    ("Could not open the port x at 0 baud: the driver 'acme' lacks the required setting 'host'", 406),
    ("something nobody foresaw", 500),
])
def test_errors_map_to_codes(message, code):
    assert classify_error(message) == code


@pytest.mark.parametrize("line, code", [
    ("//action:out_of_filament T0", 303),
    ("// action:prompt_begin FilamentRunout T0", 303),
    ("// action:paused filament_runout", 303),
    ("// action:pause", None),
    ("Error: Heating failed, system stopped! Heater_ID: 0", 301),
    ("Error: something odd", 300),
    ("echo:busy: processing", None),
])
def test_firmware_lines_that_report_machine_problems(line, code):
    assert firmware_condition(line) == code


def test_the_readme_table_lists_every_code_as_the_code_has_it():
    with open(README, encoding="utf-8") as f:
        text = f.read()
    rows = {int(m.group(1)): (m.group(2).strip(), m.group(3).strip())
            for m in re.finditer(r"^\| (\d{3}) \| ([^|]+) \| `(\w+)` \|", text, re.M)}
    assert rows == {code: (entry.label, entry.color) for code, entry in CODES.items()}
