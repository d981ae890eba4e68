"""The receive loop's own line splitting, fed chunk by chunk as a port delivers them."""

from octohost.comm.receiving import Receiver


class ChunkedPort:
    """A transport whose reads return the given chunks in order (b"" for an idle read), then fail."""

    timeout = 0.01

    def __init__(self, chunks):
        self.chunks = list(chunks)

    @property
    def in_waiting(self):
        return len(self.chunks[0]) if self.chunks else 0

    def read(self, size):
        if not self.chunks:
            raise OSError("unplugged")
        return self.chunks.pop(0)


def receive(chunks):
    handled, events = [], []
    receiver = Receiver(ChunkedPort(chunks), handled.append, lambda: events.append("idle"),
                        lambda exc: events.append(f"lost: {exc}"))
    receiver.running = True
    receiver.run()
    return handled, events


def test_lines_split_across_chunks_are_joined():
    handled, events = receive([b"ok\n", b"o", b"k T:21", b".0 /0.0\nok\n", b"ok\nec", b"ho:busy\r\n"])
    assert handled == ["ok", "ok T:21.0 /0.0", "ok", "ok", "echo:busy"]
    assert events == ["lost: unplugged"]


def test_a_bare_ok_after_a_partial_line_completes_that_line_first():
    handled, _ = receive([b"T:21.0 /0", b"ok\n", b"ok\n"])
    assert handled == ["T:21.0 /0ok", "ok"]


def test_several_lines_in_one_chunk_keep_their_order_and_the_rest_waits():
    handled, _ = receive([b"start\nFIRMWARE_NAME:Marlin\nok\nResend: 3", b"\nok\n"])
    assert handled == ["start", "FIRMWARE_NAME:Marlin", "ok", "Resend: 3", "ok"]


def test_idle_reads_and_undecodable_bytes():
    handled, events = receive([b"", b"ok \xff\xfe\n", b""])
    assert handled == ["ok \ufffd\ufffd"]
    assert events == ["idle", "idle", "lost: unplugged"]


def test_a_failing_handler_skips_only_its_line():
    handled = []

    def handle(line):
        if line == "bad":
            raise ValueError(line)
        handled.append(line)

    receiver = Receiver(ChunkedPort([b"bad\nok\n", b"ok\n"]), handle, lambda: None, lambda exc: None)
    receiver.running = True
    receiver.run()
    assert handled == ["ok", "ok"]


def test_reads_of_exactly_one_ok_take_the_ok_lane_in_order_with_the_other_lines():
    seen = []
    receiver = Receiver(ChunkedPort([b"ok\n", b"echo:x\nok\n", b"ok\n", b"T:2", b"1\n", b"ok\n"]),
                        lambda line: seen.append(("line", line)), lambda: None, lambda exc: None,
                        handle_ok=lambda: seen.append(("ok lane", "ok")))
    receiver.running = True
    receiver.run()
    # a chunk that is one bare ok goes to handle_ok; an ok inside a longer chunk is split as any line
    assert seen == [("ok lane", "ok"), ("line", "echo:x"), ("line", "ok"), ("ok lane", "ok"), ("line", "T:21"),
                    ("ok lane", "ok")]


def test_without_an_ok_lane_a_bare_ok_is_handled_as_a_line():
    handled, _ = receive([b"ok\n", b"ok\n"])
    assert handled == ["ok", "ok"]


def test_a_failing_ok_lane_skips_only_that_ok():
    seen = []

    def handle_ok():
        if not seen:
            seen.append("failed")
            raise ValueError("first")
        seen.append("ok")

    receiver = Receiver(ChunkedPort([b"ok\n", b"ok\n"]), seen.append, lambda: None, lambda exc: None, handle_ok)
    receiver.running = True
    receiver.run()
    assert seen == ["failed", "ok"]
