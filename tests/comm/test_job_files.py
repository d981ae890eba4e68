"""Reading print files: line endings as slicers and old tools write them, exact byte positions."""

import pytest

from octohost.comm.job import SNIFF_BYTES, LocalFileJob


def commands_of(path, start_pos=None):
    job = LocalFileJob(str(path), start_pos)
    job.open()
    out = []
    try:
        while (entry := job.next_line()) is not None:
            out.append(entry)
    finally:
        job.close()
    return out


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending_gives_the_same_commands(tmp_path, ending):
    lines = [b"; sliced", b"G28", b"G1 X10 ; move", b"", b"M104 S200"]
    path = tmp_path / "part.gcode"
    path.write_bytes(ending.join(lines) + ending)
    entries = commands_of(path)
    assert [cmd for cmd, _, _ in entries] == ["G28", "G1 X10", "M104 S200"]
    data = path.read_bytes()
    for cmd, start, end in entries:  # byte spans point at the line in the file
        assert data[start:end].rstrip(b"\r\n").split(b";")[0].strip().decode() == cmd
    assert entries[-1][2] == len(data)


def test_a_cr_only_file_longer_than_the_sniffed_start_and_resumed_mid_way(tmp_path):
    lines = [f"G1 X{i} Y{i}".encode() for i in range(SNIFF_BYTES // 5)]
    path = tmp_path / "big.gcode"
    path.write_bytes(b"\r".join(lines))  # no final CR: the last line still counts
    entries = commands_of(path)
    assert len(entries) == len(lines) and entries[-1][0] == f"G1 X{len(lines) - 1} Y{len(lines) - 1}"
    middle = entries[len(entries) // 2]
    resumed = commands_of(path, start_pos=middle[2])
    assert resumed == entries[len(entries) // 2 + 1:]
