"""The host's own queuing rules: pausing, blocked and ignored commands, as OctoPrint 1.11 applies them."""

import pytest

from octohost.comm.commandrules import CommandRules
from octohost.comm.sendqueue import Command

OCTOPRINT_DEFAULTS = dict(pausing=["M0", "M1", "M25"], blocked=["M0", "M1"], ignored=[])


class Outcome:
    def __init__(self):
        self.paused = 0
        self.suppressed = []

    def pause(self):
        self.paused += 1

    def suppress(self, command, message, severity):
        self.suppressed.append((command.cmd, message, severity))


def apply(rules, cmd, printing, tags=None):
    outcome = Outcome()
    sent = rules.apply(Command(cmd, tags=tags), printing, outcome.pause, outcome.suppress)
    return sent, outcome


def test_m0_in_a_running_print_pauses_it_and_is_not_sent():
    sent, outcome = apply(CommandRules(**OCTOPRINT_DEFAULTS), "M0 ; change filament", printing=True)
    assert not sent and outcome.paused == 1
    assert outcome.suppressed == [("M0 ; change filament",
                                   "Not sending M0 to printer as it's configured as a blocked command", "warn")]


def test_m25_pauses_a_running_print_and_is_still_sent():
    sent, outcome = apply(CommandRules(**OCTOPRINT_DEFAULTS), "M25", printing=True)
    assert sent and outcome.paused == 1 and outcome.suppressed == []


def test_outside_a_print_nothing_pauses_but_blocked_stays_blocked():
    rules = CommandRules(**OCTOPRINT_DEFAULTS)
    sent, outcome = apply(rules, "M25", printing=False)
    assert sent and outcome.paused == 0
    sent, outcome = apply(rules, "M1", printing=False)
    assert not sent and outcome.paused == 0 and outcome.suppressed[0][2] == "warn"


@pytest.mark.parametrize("tag", ["trigger:pause", "trigger:cancel"])
def test_commands_of_a_pause_or_cancel_do_not_pause_again(tag):
    sent, outcome = apply(CommandRules(**OCTOPRINT_DEFAULTS), "M25", printing=True, tags={tag})
    assert sent and outcome.paused == 0


def test_ignored_commands_are_not_sent_with_severity_info():
    sent, outcome = apply(CommandRules(ignored=["M117"]), "M117 Hello", printing=False)
    assert not sent
    assert outcome.suppressed == [("M117 Hello", "Not sending M117 to printer as it's configured as an ignored "
                                                 "command", "info")]


def test_other_commands_pass_untouched():
    rules = CommandRules(pausing=["M601"], blocked=["M1"])
    assert rules.watched == {"M601", "M1"}
    for cmd in ("G1 X10", "M104 S200", "@pause", "M600"):
        sent, outcome = apply(rules, cmd, printing=True)
        assert sent and outcome.paused == 0 and outcome.suppressed == [], cmd
    sent, outcome = apply(rules, "m601", printing=True)  # the command's G-code is upper-cased, as sent
    assert sent and outcome.paused == 1
