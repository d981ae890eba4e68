"""The plain-ok lane over a real pseudo-terminal: each ``ok`` read alone skips splitting and
classifying, and still reaches received-line handlers and the terminal as every line does."""

import re


def print_file(comm, recorder, path, wait_for):
    assert comm.select_file(str(path), False)
    assert comm.start_print()
    wait_for(lambda: recorder.named("on_comm_print_job_done"), message="the print to finish")


def test_received_handlers_see_every_ok_of_a_print(plugins, machine, pty_printer, tmp_path, wait_for, write_gcode):
    manager = plugins({"p.py": '''
oks = []
def received(comm, line, *args, **kwargs):
    if line == "ok":
        oks.append(line)
    return line
__plugin_hooks__ = {"octoprint.comm.protocol.gcode.received": received}
'''})
    comm, recorder = machine(port=pty_printer().path, plugin_manager=manager)
    oks = manager.plugins["p"].module.oks
    write_gcode(tmp_path / "part.gcode", 300)
    before = len(oks)
    print_file(comm, recorder, tmp_path / "part.gcode", wait_for)
    assert len(oks) - before >= 300  # one per line at least (temperature polls answer with more)


def test_the_terminal_shows_each_ok_between_its_line_and_the_next(machine, pty_printer, tmp_path, wait_for,
                                                                  write_gcode):
    comm, recorder = machine(port=pty_printer().path)
    commands = write_gcode(tmp_path / "part.gcode", 300)
    print_file(comm, recorder, tmp_path / "part.gcode", wait_for)
    sent = [index for index, line in enumerate(recorder.log) if re.match(r"Send: N\d+ G1 ", line)]
    assert [recorder.log[index].split(" ", 2)[2].rsplit("*", 1)[0] for index in sent] == commands
    for this, following in zip(sent, sent[1:], strict=False):
        assert "Recv: ok" in recorder.log[this + 1:following], recorder.log[this:following + 1]
