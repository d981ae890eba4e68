"""Client patterns: re's answers for ordinary patterns, refusals for dangerous ones, and a CPU budget
that stops catastrophic backtracking without holding the GIL."""

import re
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octohost.util.safematch import (
    MAX_PATTERN,
    Budget,
    BudgetExhausted,
    LineFilter,
    PatternRefused,
    check,
)

LINES = ["Send: N12 G1 X10.5 Y20 F6000*87", "Recv: ok", "Recv: T:210.0 /210.0 B:60.0 /60.0 @:0 B@:0",
         "Recv: echo:busy: processing", "Send: M105", "Changing monitoring state from \"Operational\" to \"Printing\"",
         "Recv: Error:Line Number is not Last Line Number+1, Last Line: 11", "", "Send: M117 zebra {braces}"]
# Fails with catastrophic backtracking in the regex package too (the "(.*){1,5}z" is only slow in re).
CATASTROPHIC = r"(?:[^x]|.)*\d{60}"


def plenty():
    return Budget(rate=1.0, burst=10.0)


@pytest.mark.parametrize("pattern", [
    "^Send:", "^Recv: ok", r"T:\d+\.\d", "(?i)ERROR", r"\bM105\b", "busy|Error", "^(Send|Recv): [A-Z]\\d*",
    r"X(\d+)(?:\.\d+)?\s", r"Line:\s*(\d{1,3})$", "[^ ]+ processing", r"\{braces\}", "^$", "",
    r"(?P<word>ok)\b", r"(o)k(?=$)", r"(?<!/)210", r"\N{LATIN SMALL LETTER Z}ebra", r"F(\d){2,}",
])
def test_ordinary_patterns_select_what_re_search_selects(pattern):
    expected = [line for line in LINES if re.search(pattern, line)]
    assert LineFilter(pattern).select(LINES, plenty()) == expected


def test_the_pattern_from_the_attack_selects_lines_with_a_z():
    """``(.*){1,5}z`` matches where a z is; re needs seconds per line to find that out."""
    assert LineFilter("(.*){1,5}z").select(LINES, plenty()) == [line for line in LINES if "z" in line]


_ATOMS = st.sampled_from(["a", "b", "0", " ", ":", r"\.", ".", r"\d", r"\w", r"\s", r"\S", "[ab]", "[^a ]", "[0-9:]"])


def _quantified(atom):
    quantifiers = ["", "", "*", "+", "?", "{2}", "{1,3}", "{,2}", "{2,}", "*?", "+?"]
    return st.tuples(st.just(atom), st.sampled_from(quantifiers))


_PIECES = st.recursive(
    _ATOMS.flatmap(_quantified).map("".join),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda parts: "(" + "".join(parts) + ")"),
        st.lists(inner, min_size=2, max_size=3).map(lambda parts: "(?:" + "|".join(parts) + ")"),
        st.tuples(st.lists(inner, min_size=1, max_size=2).map(lambda parts: "(?:" + "".join(parts) + ")"),
                  st.sampled_from(["", "?", "{1,2}"])).map("".join),  # nested * would make re itself slow
    ),
    max_leaves=4,
)
_PATTERNS = st.tuples(st.sampled_from(["", "^", r"\b"]), st.lists(_PIECES, min_size=1, max_size=3).map("".join),
                      st.sampled_from(["", "$", r"\b"])).map("".join).filter(lambda p: len(p) <= MAX_PATTERN)


@settings(max_examples=150, deadline=None)
@given(pattern=_PATTERNS, lines=st.lists(st.text(alphabet="ab0: .\tz", max_size=10), max_size=6))
def test_generated_patterns_agree_with_re(pattern, lines):
    expected = [line for line in lines if re.search(pattern, line)]
    assert LineFilter(pattern).select(lines, plenty()) == expected


@pytest.mark.parametrize("pattern, reason", [
    ("a" * (MAX_PATTERN + 1), "longer than"),
    ("(unclosed", "invalid regular expression"),
    ("a**", "invalid regular expression"),
    (r"\p{L}", "brace"),  # regex-only syntax
    (r"\p", "invalid regular expression"),
    ("(?:foo){e<=1}", "brace"),  # fuzzy matching in regex, literal text in re
    ("x{}", "brace"),
    ("[[:alpha:]]", "literal ["),
    ("(?x) a b", "verbose"),
    ("(?ix:a b)", "verbose"),
    (".{4294967294}", "expand"),
    ("(a{65535}){65535}", "expand"),
    ("(?:a{999}){999}", "expand"),
    ("((((a{9}){9}){9}){9})", "expand"),
])
def test_dangerous_or_ambiguous_patterns_are_refused_quickly(pattern, reason):
    started = time.monotonic()
    with pytest.raises(PatternRefused, match=re.escape(reason)):
        LineFilter(pattern)
    assert time.monotonic() - started < 1.0, "refusing must not compile what it refuses"


def test_a_non_string_is_refused():
    with pytest.raises(PatternRefused):
        check(42)


def test_counted_repetitions_within_the_limit_compile():
    assert LineFilter("(a{40}){40}").select(["a" * 1600, "a" * 40], plenty()) == ["a" * 1600]


def test_catastrophic_backtracking_stops_at_the_budget():
    budget = Budget(rate=0.0, burst=0.2)
    lines = [LINES[2] * 2] * 50
    started = time.thread_time()
    with pytest.raises(BudgetExhausted):
        LineFilter(CATASTROPHIC).select(lines, budget)
    spent = time.thread_time() - started
    assert spent < 2.0, f"the budget was 0.2 s of CPU, the match took {spent:.2f} s"
    # spent, give or take the CPU the last step measured against the wall-clock time it was allowed
    assert budget.available() < 0.01


def test_a_slow_pattern_is_stopped_by_its_total_not_just_per_line():
    """Each line alone is well within budget (a few ms: backtracking doubles with each character);
    the batch is not."""
    filter, line = LineFilter(r"(?:[^x]|.)*\d{3}"), "Recv: T:2 /2"
    single = Budget(rate=0.0, burst=10.0)
    assert filter.select([line], single) == []
    per_line = 10.0 - single.available()
    assert per_line < 0.5, f"one line took {per_line:.3f} s; pick a cheaper line for this test"
    budget = Budget(rate=0.0, burst=per_line * 20)
    with pytest.raises(BudgetExhausted):
        filter.select([line] * 2000, budget)


def test_budget_refills_at_its_rate_up_to_its_burst():
    now = [100.0]
    budget = Budget(rate=0.5, burst=1.0, clock=lambda: now[0])
    budget.charge(1.5)
    assert budget.available() == pytest.approx(-0.5)
    now[0] += 2.0
    assert budget.available() == pytest.approx(0.5)
    now[0] += 100.0
    assert budget.available() == pytest.approx(1.0)


def test_other_threads_run_while_a_catastrophic_match_runs():
    """The regex package releases the GIL while matching: the serial threads are never held up."""
    budget = Budget(rate=0.0, burst=1.0)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_exhausts(budget)))
    worker.start()
    spins = 0
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        spins += 1
    still_matching = worker.is_alive()
    worker.join(timeout=30)
    assert outcome == [True]
    assert still_matching, "the match ended before the measurement did; it must outlast 0.3 s"
    assert spins > 10_000, f"this thread ran only {spins} loop iterations in 0.3 s of the match"


def _exhausts(budget):
    try:
        LineFilter(CATASTROPHIC).select([LINES[2] * 2], budget)
    except BudgetExhausted:
        return True
    return False


def test_compiling_is_charged_to_the_budget_and_refused_once_it_is_used_up():
    budget = Budget(rate=0.0, burst=1.0)
    LineFilter(r"(?i)[\w\W]{1999}", budget)
    assert budget.available() < 1.0
    budget.charge(budget.available())
    with pytest.raises(BudgetExhausted):
        LineFilter("^Send:", budget)
