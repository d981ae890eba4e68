"""A minimal, fast firmware simulator on a pseudo-terminal, for the streaming benchmark.

It speaks just enough Marlin (numbered lines with checksums, M110, M105, M115, ``ok``) to be a
target that is not the bottleneck, and models what limits real hosts:

- ``--baud B``: both directions of the serial line carry B/10 bytes per second; a line counts as
  received when its last byte has crossed the wire, an ``ok`` reaches the host when its bytes have.
- ``--latency S``: every answer leaves S seconds after the line arrived (a USB frame is 1 ms).
- A line is held from its arrival until its answer leaves. As in Marlin, the oldest four held
  lines sit in the command queue (``BUFSIZE`` 4) and the rest in the receive buffer.
- ``--rx-buffer N``: bytes in the receive buffer above N are counted as overflows (a real board
  would corrupt the line); the benchmark checks there are none.
- ``--advanced-ok``: answers ``ok N<line> P<planner> B<free slots>`` and reports ADVANCED_OK;
  ``B`` is counted as Marlin does, while the answered command still holds its slot.
- ``G4 P<ms>``/``G4 S<s>`` hold the queue that long (lines behind it wait), and with
  ``--keepalive S`` Marlin's host keepalive says ``echo:busy: processing`` every S seconds meanwhile.
- ``--lose-ok-every N``: the ok of every N-th move is never sent (a noisy line), for the lost-ok
  benchmark (benchmarks/lost_ok.py).
- ``--spin S``: after any traffic, poll the pty for S seconds before sleeping (default 0.005), as
  a microcontroller polls its UART; ``--spin 0`` sleeps in ``select`` at once, for a simulator
  that shares its core with the host (see :meth:`Simulator.run`).

Prints the pty path, serves until SIGTERM, then writes its measurements as JSON to ``--stats``:
turnaround samples (``ok`` written -> next line's first byte read, microseconds) with the number of
moves received before each (so a caller can keep just the samples inside a print, not the idle
gaps around it), line count, when the first and the last move arrived, overflows, checksum errors
and its own CPU time.

Usage: python benchmarks/sim/firmware.py [--baud 115200] [--latency 0.001] [--advanced-ok] --stats FILE
"""

import argparse
import heapq
import json
import os
import select
import signal
import sys
import time
import tty

COMMAND_BUFFER = 4
SPIN = 0.005  # seconds of polling after traffic before the simulator may sleep (--spin)


def checksum(data):
    value = 0
    for byte in data:
        value ^= byte
    return value


class Simulator:
    def __init__(self, baud, latency, rx_buffer, advanced_ok, keepalive=0.0, lose_ok_every=0, spin=SPIN):
        self.spin = spin
        self.byte_time = 10.0 / baud if baud else 0.0
        self.latency = latency
        self.rx_buffer = rx_buffer
        self.advanced_ok = advanced_ok
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        self.partial = b""
        self.last_n = 0
        self.in_wire_free = 0.0   # when the inbound wire is free for the next byte
        self.out_wire_free = 0.0  # when the outbound wire is free
        self.outbox = []          # heap of (due time, sequence, bytes)
        self.sequence = 0
        self.unacked = []         # sizes of received lines not yet answered
        self.unacked_bytes = 0
        self.last_ok_written = None
        self.turnaround = []
        self.turnaround_moves = []  # moves received before each turnaround sample
        self.moves = 0
        self.first_move = self.last_move = None  # perf_counter (CLOCK_MONOTONIC) arrival times
        self.overflows = 0
        self.errors = 0
        self.keepalive = keepalive
        self.lose_ok_every = lose_ok_every
        self.lost_oks = 0
        self.held_until = 0.0  # a G4 holds the queue until then: answers behind it wait
        self.running = True

    # -- input -----------------------------------------------------------------------------------

    def receive(self, data, now):
        if self.last_ok_written is not None:
            self.turnaround.append((now - self.last_ok_written) * 1e6)
            self.turnaround_moves.append(self.moves)
            self.last_ok_written = None
        data = self.partial + data
        *lines, self.partial = data.split(b"\n")
        for line in lines:
            size = len(line) + 1
            if self.byte_time:
                start = max(now, self.in_wire_free)
                arrived = start + size * self.byte_time
                self.in_wire_free = arrived
            else:
                arrived = now
            self.unacked.append(size)
            self.unacked_bytes += size
            if self.rx_buffer and self.unacked_bytes - sum(self.unacked[:COMMAND_BUFFER]) > self.rx_buffer:
                self.overflows += 1
            self.handle(line.strip(), arrived)

    def handle(self, line, arrived):
        if not line:
            return
        text = line
        if text.startswith(b"N"):
            star = text.rfind(b"*")
            head, _, body = text[:star].partition(b" ")
            number = int(head[1:])
            if star < 0 or int(text[star + 1:]) != checksum(text[:star]):
                self.errors += 1
                self.answer(arrived, b"Error:checksum mismatch, Last Line: %d\nResend: %d\nok\n"
                            % (self.last_n, self.last_n + 1))
                return
            if body.startswith(b"M110"):
                parts = body.split()
                self.last_n = int(parts[1][1:]) if len(parts) > 1 else 0
            elif number != self.last_n + 1:
                self.errors += 1
                self.answer(arrived, b"Error:Line Number is not Last Line Number+1, Last Line: %d\nResend: %d\nok\n"
                            % (self.last_n, self.last_n + 1))
                return
            else:
                self.last_n = number
        else:
            body = text
        if body.startswith(b"G1 "):
            self.moves += 1
            if self.first_move is None:
                self.first_move = arrived
            self.last_move = arrived
            if self.lose_ok_every and not self.moves % self.lose_ok_every:
                self.lost_oks += 1
                self.answer(arrived, b"")  # done, but its ok never reaches the host
                return
        if body.startswith(b"G4"):
            self.hold(arrived, body)
        elif body.startswith(b"M105"):
            self.answer(arrived, b"ok T:21.0 /0.0 B:21.0 /0.0 @:0 B@:0\n")
        elif body.startswith(b"M115"):
            self.answer(arrived, b"FIRMWARE_NAME:BenchSim PROTOCOL_VERSION:1.0\nCap:AUTOREPORT_TEMP:0\n"
                        b"Cap:ADVANCED_OK:%d\n" % self.advanced_ok + self.ok())
        elif self.advanced_ok:
            self.answer(arrived, None)  # its B is counted when it leaves
        else:
            self.answer(arrived, b"ok\n")

    def ok(self):
        if self.advanced_ok:
            return self.advanced(self.last_n)
        return b"ok\n"

    def advanced(self, number):
        """``ok N.. P.. B..`` for the oldest held line, which still holds its command slot."""
        return b"ok N%d P15 B%d\n" % (number, COMMAND_BUFFER - min(len(self.unacked), COMMAND_BUFFER))

    # -- output ----------------------------------------------------------------------------------

    def hold(self, arrived, body):
        """G4: answer after the dwell, with keepalives meanwhile; whatever arrives behind it waits."""
        seconds = 0.0
        for word in body.split()[1:]:
            if word[:1] in (b"P", b"S"):
                seconds += float(word[1:]) / (1000.0 if word[:1] == b"P" else 1.0)
        start = max(arrived, self.held_until)
        self.held_until = start + seconds
        if self.keepalive > 0:
            due = start + self.keepalive
            while due < self.held_until:
                self.sequence += 1
                heapq.heappush(self.outbox, (due, self.sequence, b"echo:busy: processing\n", None))
                due += self.keepalive
        self.answer(arrived, self.ok())

    def answer(self, arrived, data):
        """Send ``data`` (None: an advanced ok for the line just handled) when it is due."""
        if self.held_until > arrived:
            arrived = self.held_until  # behind a dwell: answered when it ends
        elif not self.byte_time and not self.latency:  # unthrottled: answer at once, no scheduling
            if data is None:
                data = self.advanced(self.last_n)
            if self.unacked:
                self.unacked_bytes -= self.unacked.pop()
            if data:
                self.write(data)
            return
        due = arrived + self.latency
        if self.byte_time:
            start = max(due, self.out_wire_free)
            due = start + len(data or b"ok N12345 P15 B3\n") * self.byte_time
            self.out_wire_free = due
        self.sequence += 1
        heapq.heappush(self.outbox, (due, self.sequence, data, self.last_n))

    def flush_due(self, now):
        while self.outbox and self.outbox[0][0] <= now:
            _, _, data, number = heapq.heappop(self.outbox)
            if number is None:  # a keepalive: no answer to a line
                os.write(self.master, data)
                continue
            if data is None:
                data = self.advanced(number)
            if self.unacked:
                self.unacked_bytes -= self.unacked.pop(0)
            if data:
                self.write(data)

    def write(self, data):
        """Write an answer, stamped just before the write.

        The stamp must not come after ``os.write``: the write wakes the pty's flush worker, and when
        that worker runs on this CPU the simulator is preempted inside the call until the host has
        read the answer and written its next line, so a stamp taken afterwards hides the host's whole
        turnaround (that is what made the turnaround look bimodal on one core, 5 µs or 90 µs).
        """
        self.last_ok_written = time.perf_counter()
        os.write(self.master, data)

    # -- loop ------------------------------------------------------------------------------------

    def run(self):
        """Serve until stopped, pacing answers by a deadline clock.

        A microcontroller polls its UART and never sleeps, so the simulator does not charge an OS
        wakeup to the wire either: for ``spin`` seconds after any traffic it polls the pty
        without blocking, and only a quiet line lets it sleep in ``select``.

        That is right only while the simulator has a core of its own. A microcontroller never
        takes the host's CPU, but a simulator polling on the host's core does: the scheduler
        shares the core fairly between them, so each microsecond the host spends on a line
        lets the poller take about another, and a woken host waits out the poller's time
        slice now and then. Pinned beside octohost on one core, unthrottled, a polling simulator
        raised octohost's CPU per line from 0.062 to 0.103 s per 1,000 lines (the bare loop's from
        0.024 to 0.029) and put a 3.5 ms p99 on its turnaround. So ``--spin 0`` for a shared core.
        Answers due later (baud, latency) then wait in ``select`` with the process's timer slack
        at its minimum, and still leave late by a wake-up: the bare loop reached 91% of the
        115200-baud wire that way instead of 97%, so streaming.py keeps polling for those.
        """
        master = self.master
        perf = time.perf_counter
        read = os.read
        spin = self.spin
        if not spin:
            _least_timer_slack()
        spin_until = 0.0
        while self.running:
            now = perf()
            if self.outbox and self.outbox[0][0] <= now:
                self.flush_due(now)
                spin_until = now + spin
            try:
                data = read(master, 65536)
            except BlockingIOError:
                data = None
            except OSError:
                break
            if data:
                now = perf()
                self.receive(data, now)
                spin_until = now + spin
                continue
            if now < spin_until:
                continue
            timeout = max(0.0, self.outbox[0][0] - now) if self.outbox else 0.5
            select.select([master], [], [], timeout)

    def stats(self):
        usage = os.times()
        return {"moves": self.moves, "turnaround_us": self.turnaround, "turnaround_moves": self.turnaround_moves,
                "first_move": self.first_move, "last_move": self.last_move, "overflows": self.overflows,
                "errors": self.errors, "lost_oks": self.lost_oks, "cpu_s": usage.user + usage.system}


def _least_timer_slack():
    """Let ``select`` time out on time: Linux rounds a sleeping thread's timeouts up by its timer slack
    (50 µs by default) to save wake-ups; ``PR_SET_TIMERSLACK`` 1 ns asks for precise ones."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(29, 1, 0, 0, 0)  # PR_SET_TIMERSLACK
    except (OSError, AttributeError):
        pass  # not Linux: the default slack


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baud", type=int, default=0, help="throttle both directions to this baud rate")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--rx-buffer", type=int, default=128, help="receive buffer to check against (0: off)")
    parser.add_argument("--advanced-ok", action="store_true")
    parser.add_argument("--keepalive", type=float, default=0.0,
                        help="seconds between 'echo:busy: processing' while a G4 holds the queue (0: none)")
    parser.add_argument("--lose-ok-every", type=int, default=0, help="drop the ok of every N-th move (0: none)")
    parser.add_argument("--spin", type=float, default=SPIN,
                        help="seconds of polling after traffic before sleeping (0 on the host's core)")
    parser.add_argument("--stats", required=True, help="file to write the measurements to on SIGTERM")
    args = parser.parse_args()
    sim = Simulator(args.baud, args.latency, args.rx_buffer, args.advanced_ok, args.keepalive, args.lose_ok_every,
                    args.spin)

    def stop(*_):
        sim.running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(sim.path, flush=True)
    sim.run()
    with open(args.stats, "w") as f:
        json.dump(sim.stats(), f)
    sys.exit(0)


if __name__ == "__main__":
    main()
