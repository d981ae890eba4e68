"""Uploads are paced while printing, and only then."""

from octohost.server.upload import PrintingPacer

MIB = 2**20


class FakePrinter:
    printing = False

    def is_printing(self):
        return self.printing


def make_pacer(rate_mib):
    printer, now = FakePrinter(), [100.0]
    pacer = PrintingPacer(printer, rate_mib, clock=lambda: now[0], sleep=lambda seconds: seconds)
    return printer, now, pacer


def test_no_pacing_while_idle_or_when_disabled():
    printer, _, pacer = make_pacer(16)
    assert pacer.pace(64 * MIB) is None
    printer, _, unlimited = make_pacer(0)
    printer.printing = True
    assert unlimited.pace(64 * MIB) is None


def test_printing_holds_the_upload_to_the_rate():
    printer, now, pacer = make_pacer(16)
    printer.printing = True
    assert pacer.pace(8 * MIB) == 0.5
    now[0] += 0.5
    assert pacer.pace(8 * MIB) == 0.5
    now[0] += 2.0
    assert pacer.pace(8 * MIB) is None


def test_pacing_restarts_after_the_print():
    printer, now, pacer = make_pacer(16)
    printer.printing = True
    pacer.pace(32 * MIB)
    printer.printing = False
    assert pacer.pace(32 * MIB) is None
    printer.printing = True
    now[0] += 10
    assert pacer.pace(16 * MIB) == 1.0
