"""The parts of the comm layer see the connection only through their Protocol, never its private fields."""

import ast
import pathlib

import pytest

import octohost.comm
from octohost.comm.callback import CommCallback
from octohost.comm.firmware import FirmwareHost
from octohost.comm.jobcontrol import JobHost
from octohost.comm.machine import MachineCom
from octohost.comm.responses import ResponsesHost
from octohost.comm.sdcard import SdHost
from octohost.comm.sending import SenderHost

COMM = pathlib.Path(octohost.comm.__file__).parent
#: module, the name its host goes by (``comm.x``, ``self.comm.x``), and the Protocol that is all it may use
PARTS = [("responses.py", "comm", ResponsesHost), ("jobcontrol.py", "comm", JobHost), ("sdcard.py", "comm", SdHost),
         ("sending.py", "host", SenderHost), ("firmware.py", "comm", FirmwareHost)]


def _members(protocol):
    return {name for name in dir(protocol) if not name.startswith("_")} | set(protocol.__annotations__)


def _host_uses(tree, host):
    """(line, attribute) for every ``host.x`` and ``self.host.x`` in ``tree``."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        value = node.value
        if (isinstance(value, ast.Name) and value.id == host) or \
                (isinstance(value, ast.Attribute) and value.attr == host and isinstance(value.value, ast.Name)
                 and value.value.id == "self"):
            yield node.lineno, node.attr


@pytest.mark.parametrize("module, host, protocol", PARTS, ids=[part[0] for part in PARTS])
def test_a_part_uses_nothing_of_its_host_beyond_its_protocol(module, host, protocol):
    tree = ast.parse((COMM / module).read_text(encoding="utf-8"))
    uses = list(_host_uses(tree, host))
    assert uses, "the scan sees the uses"
    outside = sorted({(line, name) for line, name in uses if name not in _members(protocol)})
    assert not outside, f"{module} uses {host}.<name> not declared in {protocol.__name__}: {outside}"


@pytest.mark.parametrize("protocol", [part[2] for part in PARTS], ids=[part[2].__name__ for part in PARTS])
def test_machinecom_offers_what_each_part_needs(protocol):
    class Quiet(CommCallback):
        pass

    comm = MachineCom("VIRTUAL", 115200, Quiet())
    missing = sorted(name for name in _members(protocol) if not hasattr(comm, name))
    assert not missing, f"MachineCom lacks {missing} of {protocol.__name__}"


def test_no_comm_module_touches_another_objects_private_fields():
    reach_ins = []
    for path in sorted(COMM.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                    reach_ins.append(f"{path.relative_to(COMM)}:{node.lineno} .{node.attr}")
    assert not reach_ins, reach_ins
