"""Custom-control feedback: OctoPrint's keys, matching received lines, and its limits."""

import hashlib

from octohost.events import Events
from octohost.printer.feedback import EVENT_BURST, EVENT_RATE, MAX_PATTERNS, FeedbackControls, with_keys

POSITION = {"name": "Position", "regex": r"X:([0-9.]+) Y:([0-9.]+)", "template": "at {0}/{1}"}


def md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def test_feedback_controls_get_octoprints_keys_in_containers_too():
    command = {"name": "Home", "command": "G28"}
    controls = with_keys([command, {"name": "Box", "children": [POSITION, None]}])
    assert controls[0] == command
    child = controls[1]["children"][0]
    assert child["key"] == md5(POSITION["regex"]) and child["template_key"] == md5(POSITION["template"])
    assert len(controls[1]["children"]) == 1  # a None child is dropped, as OctoPrint drops it
    assert "key" not in POSITION  # the setting itself is not changed


def test_received_lines_fire_registered_message_received_with_every_template():
    fired = []
    named = {"name": "Z", "regex": r"Z:(?P<z>[0-9.]+)", "template": "height {z}"}
    second = dict(POSITION, template="Y={1}")
    feedback = FeedbackControls([POSITION, {"name": "Box", "children": [named, second]}],
                                lambda event, payload: fired.append((event, payload)))
    feedback.on_printer_add_log("Send: N5 M114*35")  # what the host sent is not feedback
    feedback.on_printer_add_log("Recv: X:10.00 Y:20.50 Z:0.30 E:0.00 Count X:800")
    assert [event for event, _ in fired] == [Events.REGISTERED_MESSAGE_RECEIVED] * 2
    payloads = {payload["key"]: payload for _, payload in fired}
    position = payloads[md5(POSITION["regex"])]
    assert position["matched"] == "X:10.00 Y:20.50"
    assert position["outputs"] == {md5("at {0}/{1}"): "at 10.00/20.50", md5("Y={1}"): "Y=20.50"}
    assert payloads[md5(named["regex"])]["outputs"] == {md5("height {z}"): "height 0.30"}


def test_unsafe_templates_and_patterns_are_left_out():
    controls = [dict(POSITION, template="{0.__class__}"), dict(POSITION, regex="(", template="x"),
                dict(POSITION, regex="Y:(1)", template="{0:>999999999}")]
    assert not FeedbackControls(controls, lambda *_: None)


def test_a_pattern_that_uses_up_the_cpu_budget_switches_feedback_off():
    fired = []
    feedback = FeedbackControls([{"name": "slow", "regex": r"(?:[^x]|.)*\d{7}", "template": "{0}"}],
                                lambda event, payload: fired.append(payload))
    feedback.on_printer_add_log("Recv: " + "a" * 60)  # catastrophic backtracking, stopped by the budget
    assert feedback.off and fired == []
    feedback.on_printer_add_log("Recv: 1234567")  # off: not searched any more
    assert fired == []


def test_at_most_max_patterns_regexes_are_searched():
    fired = []
    controls = [{"name": f"L{i}", "regex": rf"L{i}:(\d)", "template": "{0}"} for i in range(MAX_PATTERNS + 1)]
    feedback = FeedbackControls(controls, lambda event, payload: fired.append(payload["matched"]))
    feedback.on_printer_add_log(f"Recv: L{MAX_PATTERNS}:5")  # the one over the limit is left out
    feedback.on_printer_add_log(f"Recv: L{MAX_PATTERNS - 1}:5")
    assert fired == [f"L{MAX_PATTERNS - 1}:5"]


def test_events_are_rate_limited_so_a_regex_matching_every_line_cannot_flood_clients():
    now = [0.0]
    fired = []
    feedback = FeedbackControls([{"name": "every ok", "regex": r"^ok", "template": "{0}"}],
                                lambda event, payload: fired.append(payload), clock=lambda: now[0])
    for _ in range(200):  # a print's oks, all at once
        feedback.on_printer_add_log("Recv: ok")
    assert len(fired) == EVENT_BURST and feedback.dropped == 200 - EVENT_BURST
    now[0] += 1.0  # a second later the bucket holds EVENT_RATE more
    for _ in range(200):
        feedback.on_printer_add_log("Recv: ok")
    assert len(fired) == EVENT_BURST + EVENT_RATE
    assert not feedback.off  # the limit drops events; it does not switch feedback off
