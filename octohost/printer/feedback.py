"""Custom-control feedback: controls with ``regex`` and ``template`` show what the printer answers.

As in OctoPrint: such a control gets ``key`` (the MD5 of its regex) and ``template_key`` (the MD5 of
its template) where clients read the controls (:func:`with_keys`); each line the printer sends is
searched for every regex, and a match fires ``RegisteredMessageReceived`` with the key, the matched
text and each of that regex's templates filled with the match's groups (``{0}``, or ``{name}``).

The search runs on this callback's own delivery thread (the printer's callback dispatcher), never
on the serial loops: it only exists while a control has a regex, and a slow pattern delays only
its own feedback. Patterns are checked as push clients' patterns are
(:mod:`octohost.util.safematch`) and searched with a time limit under a CPU budget; one that uses
the budget up switches feedback off until the controls change; at most ``MAX_PATTERNS`` regexes
are searched. Templates may only name groups
(no attribute or index access, no widths over three digits), so filling one stays small.
The events are rate-limited (``EVENT_RATE`` a second on average, ``EVENT_BURST`` at once): a
regex that matches every line (``ok``) would otherwise send an event per printed line to every
push client and MQTT subscriber. Matches over the limit are dropped and counted in the log.
"""

from __future__ import annotations

import hashlib
import logging
import re
import string
import time
from collections.abc import Callable
from typing import Any

from octohost.events import Events
from octohost.util.safematch import Budget, BudgetExhausted, LineFilter, PatternRefused

from .interface import PrinterCallback

log = logging.getLogger(__name__)

CPU_RATE = 0.02  # seconds of CPU per second feedback may use on average...
CPU_BURST = 0.25  # ...and at most at once
MAX_PATTERNS = 100  # distinct regexes searched per line; the settings body alone would allow thousands
EVENT_RATE = 10.0  # RegisteredMessageReceived events per second on average...
EVENT_BURST = 20.0  # ...and at most at once
RECEIVED = "Recv: "


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def _is_feedback(control: Any) -> bool:
    return isinstance(control, dict) and bool(control.get("regex")) and bool(control.get("template"))


def with_keys(controls: list[Any]) -> list[Any]:
    """``controls`` with OctoPrint's ``key`` and ``template_key`` on every feedback control (copies)."""
    result = []
    for control in controls:
        if _is_feedback(control):
            control = dict(control, key=_md5(str(control["regex"])), template_key=_md5(str(control["template"])))
        elif isinstance(control, dict) and isinstance(control.get("children"), list):
            control = dict(control, children=with_keys([child for child in control["children"] if child is not None]))
        result.append(control)
    return result


def _feedback_controls(controls: list[Any]):
    for control in controls:
        if _is_feedback(control):
            yield control
        elif isinstance(control, dict) and isinstance(control.get("children"), list):
            yield from _feedback_controls(control["children"])


def check_template(template: str) -> None:
    """Raise ValueError unless ``template`` only names groups with small format specs."""
    for _literal, field, spec, _conversion in string.Formatter().parse(template):
        if field is None:
            continue
        if "." in field or "[" in field:
            raise ValueError(f"template {template!r}: attribute or index access in {{{field}}}")
        if spec and (len(spec) > 16 or re.search(r"\d{4}", spec)):
            raise ValueError(f"template {template!r}: format spec {spec!r} too large")


class FeedbackControls(PrinterCallback):
    """The printer callback that matches received lines against the controls' regexes."""

    def __init__(self, controls: list[Any], fire: Callable[[str, dict[str, Any]], None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fire = fire
        self._budget = Budget(CPU_RATE, CPU_BURST)
        self._events = Budget(EVENT_RATE, EVENT_BURST, clock)  # a token bucket of events, not of CPU seconds
        self.dropped = 0  # matches not fired since the last one that was
        self._entries: dict[str, tuple[LineFilter, dict[str, str]]] = {}
        for control in _feedback_controls(controls):
            regex, template = str(control["regex"]), str(control["template"])
            key = _md5(regex)
            try:
                check_template(template)
                if key not in self._entries:
                    if len(self._entries) >= MAX_PATTERNS:
                        raise ValueError(f"more than {MAX_PATTERNS} feedback patterns")
                    self._entries[key] = (LineFilter(regex), {})
            except (PatternRefused, ValueError) as exc:
                log.warning("custom control %r: feedback off (%s)", control.get("name", regex), exc)
                continue
            self._entries[key][1][_md5(template)] = template
        self.off = False

    def __bool__(self) -> bool:
        return bool(self._entries)

    def on_printer_add_log(self, data: str) -> None:
        if self.off or not data.startswith(RECEIVED):
            return
        line = data[len(RECEIVED):]
        try:
            for key, (pattern, templates) in self._entries.items():
                match = pattern.search(line, self._budget)
                if match is not None and self._may_fire():
                    self._fire(Events.REGISTERED_MESSAGE_RECEIVED,
                               {"key": key, "matched": match.group(0), "outputs": _outputs(match, templates)})
        except BudgetExhausted:
            self.off = True
            log.warning("custom control feedback used up its CPU budget; off until the controls change")

    def _may_fire(self) -> bool:
        events = self._events
        if events.available() < 1:
            if not self.dropped:
                log.warning("custom control feedback matches more than %g lines a second; dropping the excess",
                            EVENT_RATE)
            self.dropped += 1
            return False
        events.charge(1)
        if self.dropped:
            log.info("custom control feedback: %d matches dropped over the rate limit", self.dropped)
            self.dropped = 0
        return True


def _outputs(match: Any, templates: dict[str, str]) -> dict[str, str]:
    outputs = {}
    for template_key, template in templates.items():
        try:
            try:
                outputs[template_key] = template.format(*match.groups())
            except (KeyError, IndexError):
                outputs[template_key] = template.format(**match.groupdict())
        except (KeyError, IndexError, ValueError) as exc:
            log.debug("feedback template %r: %s", template, exc)
    return outputs
