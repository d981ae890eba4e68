"""Regular expressions from clients, matched at a bounded cost.

OctoPrint lets a push client choose the terminal lines it receives with a regular expression
(``subscribe.state.logs``, applied with search semantics). Python's ``re`` backtracks for as long
as a pattern demands and holds the GIL meanwhile, so one pattern such as ``(.*){1,5}z`` stalled
the server for every client and every thread. Here a client's pattern is

- checked before anything compiles it: at most ``MAX_PATTERN`` characters, valid for ``re`` (the
  syntax OctoPrint clients write), nothing that the ``regex`` package reads differently, and
  counted repetitions (which ``regex`` expands when it compiles) adding up to at most
  ``MAX_EXPANDED`` items;
- compiled and matched with the ``regex`` package, which releases the GIL while it matches (the
  serial threads run on) and stops a match when its timeout runs out;
- charged to a per-client :class:`Budget` of CPU time: a filter that uses it up raises
  :class:`BudgetExhausted`, and its owner stops using it.

Matching still costs CPU, so call :meth:`LineFilter.select` (and construct a
:class:`LineFilter`) on a worker thread, never on an event loop.
"""

import re
import threading
import time
from typing import Any

MAX_PATTERN = 100
MAX_EXPANDED = 2000

_QUANTIFIER = re.compile(r"\{(\d*)(,?)(\d*)\}")
_INLINE_FLAGS = re.compile(r"\(\?([aiLmsux]*)(?:-[imsx]*)?[:)]")


class PatternRefused(ValueError):
    """The pattern is not accepted; the message says why, for the client."""


class BudgetExhausted(Exception):
    """A filter used up its owner's CPU budget."""


class Budget:
    """CPU seconds a client's filters may use: ``burst`` at once, refilled at ``rate`` per second.

    A token bucket, so a filter that is merely slow is cut off as surely as one that never ends.
    Thread-safe; the clock is injectable for tests.
    """

    def __init__(self, rate: float, burst: float, clock=time.monotonic):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._available = burst
        self._stamp = clock()
        self._lock = threading.Lock()

    def available(self) -> float:
        with self._lock:
            now = self._clock()
            self._available = min(self.burst, self._available + (now - self._stamp) * self.rate)
            self._stamp = now
            return self._available

    def charge(self, seconds: float) -> None:
        with self._lock:
            self._available -= seconds


def check(pattern: str) -> None:
    """Raise :class:`PatternRefused` unless ``pattern`` is safe to hand to :class:`LineFilter`."""
    if not isinstance(pattern, str):
        raise PatternRefused("a pattern must be a string")
    if len(pattern) > MAX_PATTERN:
        raise PatternRefused(f"pattern longer than {MAX_PATTERN} characters")
    if any("x" in m.group(1) for m in _INLINE_FLAGS.finditer(pattern)):
        raise PatternRefused("verbose mode (?x) is not supported")
    if _expanded_size(pattern) > MAX_EXPANDED:
        raise PatternRefused(f"counted repetitions expand to more than {MAX_EXPANDED} items")
    try:
        re.compile(pattern)  # sre does not expand repetitions: linear in the pattern
    except (re.error, OverflowError, RecursionError) as exc:
        raise PatternRefused(f"invalid regular expression: {exc}") from None


def _expanded_size(pattern):
    """Items the pattern has once counted repetitions are written out (``(ab){3}``: 6).

    Braces must form a quantifier: ``regex`` reads some brace texts that ``re`` takes
    literally (``{e<=1}``) as fuzzy matching. Malformed patterns are left to ``re`` to report.
    """
    stack = [[0, 0]]  # per open group: [size so far, size of the last atom]
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        frame = stack[-1]
        if char == "\\":
            end = i + 2
            if pattern.startswith("N{", i + 1):
                end = pattern.find("}", i) + 1 or n
            frame[0] += 1
            frame[1] = 1
            i = end
        elif char == "[":
            i = _class_end(pattern, i)
            frame[0] += 1
            frame[1] = 1
        elif char == "(":
            stack.append([0, 0])
            i += 1
        elif char == ")":
            if len(stack) == 1:
                return 0  # unbalanced: re.compile says so
            size = stack.pop()[0]
            frame = stack[-1]
            frame[0] += size
            frame[1] = size
            i += 1
        elif char == "{":
            match = _QUANTIFIER.match(pattern, i)
            if match is None or not (match.group(1) or match.group(3)):
                raise PatternRefused("a brace must be a quantifier {m,n}; write a literal brace as \\{")
            low, comma, high = match.groups()
            count = int(high) if high else int(low) + (1 if comma else 0)
            frame[0] += frame[1] * (max(count, int(low or 0)) - 1)
            frame[1] *= max(count, 1)
            i = match.end()
        elif char in "*+?|":
            i += 1
        else:
            frame[0] += 1
            frame[1] = 1
            i += 1
        if stack[0][0] > MAX_EXPANDED:
            break
    return stack[0][0]


def _class_end(pattern, start):
    """Index after the character class opening at ``start``; refuses what ``regex`` reads as a set."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "[":  # re: literal, with a FutureWarning; regex: POSIX class or nested set
            raise PatternRefused("write a literal [ inside a character class as \\[")
        i += 1
    return i + 1


class LineFilter:
    """A checked pattern, compiled with ``regex``; selects the lines it finds a match in."""

    def __init__(self, pattern: str, budget: Budget | None = None):
        """Check and compile ``pattern``; compiling runs Python code, so it is charged to ``budget``
        too (:class:`BudgetExhausted` if that is used up already)."""
        check(pattern)
        if budget is not None and budget.available() <= 0:
            raise BudgetExhausted(pattern)
        self.pattern = pattern
        import regex  # here, not at the top: ~2 MiB of the daemon's memory, for clients that filter

        started = time.thread_time()
        try:
            self._compiled = regex.compile(pattern, flags=regex.V0, cache_pattern=False)
        except (regex.error, OverflowError, RecursionError) as exc:
            raise PatternRefused(f"invalid regular expression: {exc}") from None
        finally:
            if budget is not None:
                budget.charge(time.thread_time() - started)

    def search(self, line: str, budget: Budget) -> Any:
        """The first match in ``line`` (a ``regex`` match object) or None, charged to ``budget``.

        Raises :class:`BudgetExhausted` once ``budget`` runs out, before or during the search.
        """
        return self._search_each([line], budget)[0]

    def select(self, lines: list[str], budget: Budget) -> list[str]:
        """The lines ``pattern`` finds a match in (``re.search`` semantics), in order.

        Raises :class:`BudgetExhausted` once ``budget`` runs out, whether in one line or over many.
        """
        return [line for line, match in zip(lines, self._search_each(lines, budget), strict=True) if match is not None]

    def _search_each(self, lines: list[str], budget: Budget) -> list[Any]:
        """The first match (or None) in each of ``lines``, all of it charged to ``budget``."""
        search = self._compiled.search
        matches = []
        started = time.thread_time()
        try:
            for line in lines:
                remaining = budget.available() - (time.thread_time() - started)
                if remaining <= 0:
                    raise BudgetExhausted(self.pattern)
                matches.append(search(line, timeout=remaining))
        except TimeoutError:
            raise BudgetExhausted(self.pattern) from None
        finally:
            budget.charge(time.thread_time() - started)
        return matches
