"""Port and baud rate auto-detection."""

from octohost.comm.detect import candidate_baudrates, detect


class FakePort:
    """Answers ok to anything at ``good_rate`` only."""

    def __init__(self, rate, good_rate):
        self.answer = b"ok\n" if rate == good_rate else b""
        self.closed = False
        self.written = []

    @property
    def in_waiting(self):
        return len(self.answer)

    def write(self, data):
        self.written.append(data)

    def read(self, size):
        data, self.answer = self.answer[:size], self.answer[size:]
        return data

    def close(self):
        self.closed = True


def test_finds_the_answering_port_and_rate_and_closes_the_others():
    opened = []

    def open_port(port, rate):
        if port == "/dev/missing":
            raise OSError("no such device")
        transport = FakePort(rate, 57600 if port == "/dev/good" else None)
        opened.append((port, rate, transport))
        return transport

    attempts = []
    found = detect(["/dev/missing", "/dev/bad", "/dev/good"], [115200, 57600], open_port, "M110 N0", 0.05,
                   lambda port, rate: attempts.append((port, rate)))
    transport, port, rate = found
    assert (port, rate) == ("/dev/good", 57600)
    assert transport.written == [b"N0 M110 N0*125\n"]
    assert all(t.closed for p, r, t in opened if t is not transport) and not transport.closed
    assert attempts[0] == ("/dev/missing", 115200) and ("/dev/missing", 57600) not in attempts


def test_nothing_answers():
    assert detect(["/dev/a"], [115200], lambda p, r: FakePort(r, None), "M110", 0.02) is None


def test_candidate_rates_without_duplicates():
    assert candidate_baudrates([250000, 500000])[:2] == [115200, 250000]
    assert candidate_baudrates([500000]).count(500000) == 1


def test_machine_detects_the_baud_rate(machine, settings):
    from octohost.comm.ports import detection_baudrates

    comm, recorder = machine(baudrate=0)
    assert "DETECT_BAUDRATE" in recorder.states
    assert comm.baudrate == detection_baudrates(settings)[0]  # the virtual printer answers at any rate


def test_machine_detects_a_pty_port_from_additional_ports(machine, settings):
    from octohost.comm.virtual import serve_pty

    server = serve_pty()
    try:
        settings.set("serial.additionalPorts", [server.path])
        comm, recorder = machine(port="AUTO")
        assert comm.port == server.path and "DETECT_SERIAL" in recorder.states
        comm.close()
    finally:
        server.close()
