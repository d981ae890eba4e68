"""The comm layer's seam with the printer (``octohost.comm.callback``) holds against the code.

Both Protocols there are the documentation; these tests make them unable to drift: what the comm
layer calls on its callback, what ``MachineCom`` offers and what the printer implements and uses
must all match them, parameter for parameter.
"""

import ast
import inspect
import pathlib

import pytest

import octohost
from octohost.comm.callback import Comm, CommCallback
from octohost.comm.machine import MachineCom

PACKAGE = pathlib.Path(octohost.__file__).parent


def _members(protocol):
    return {name for name in dir(protocol) if not name.startswith("_")} | set(protocol.__annotations__)


def _shape(function):
    """A signature without annotations: names, kinds and defaults are the contract here."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def _callback_uses(root):
    """Every ``<...>.callback.on_comm_*`` / ``callback.on_comm_*`` in ``root``: (where, name, call node or None)."""
    uses = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {id(node.func): node for node in ast.walk(tree) if isinstance(node, ast.Call)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Attribute) and node.attr.startswith("on_comm_")):
                continue
            owner = node.value
            owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if owner_name == "callback":
                uses.append((f"{path.relative_to(PACKAGE.parent)}:{node.lineno}", node.attr, calls.get(id(node))))
    return uses


def test_every_callback_the_comm_layer_calls_binds_to_the_protocol():
    uses = _callback_uses(PACKAGE / "comm")
    assert len(uses) > 30  # the scan sees the calls
    for where, name, call in uses:
        method = getattr(CommCallback, name, None)
        assert callable(method), f"{where}: callback.{name} is not in CommCallback"
        if call is None or any(isinstance(a, ast.Starred) for a in call.args) or \
                any(k.arg is None for k in call.keywords):
            continue
        try:
            inspect.signature(method).bind(None, *call.args, **{k.arg: None for k in call.keywords})
        except TypeError as exc:
            pytest.fail(f"{where}: callback.{name}(...) does not fit CommCallback.{name}: {exc}")


def test_the_printer_implements_the_callback_protocol_signature_for_signature():
    from octohost.cli.print_file import _Outcome
    from octohost.printer.standard import Printer

    names = [name for name in dir(CommCallback) if name.startswith("on_comm_")]
    for implementation in (Printer, _Outcome):
        for name in names:
            assert _shape(getattr(implementation, name)) == _shape(getattr(CommCallback, name)), \
                f"{implementation.__name__}.{name}"
        extra = {name for name in dir(implementation) if name.startswith("on_comm_")} - set(names)
        assert not extra, f"{implementation.__name__} implements callbacks the comm layer never calls: {extra}"


def test_machinecom_offers_the_comm_protocol_parameter_for_parameter():
    class Quiet(CommCallback):
        pass

    comm = MachineCom("VIRTUAL", 115200, Quiet())
    for name in _members(Comm):
        assert hasattr(comm, name), f"MachineCom lacks {name}"
        expected = inspect.getattr_static(Comm, name, None)
        if inspect.isfunction(expected):
            assert _shape(getattr(comm, name)) == _shape(expected)[1:], f"MachineCom.{name}"
        elif isinstance(expected, property):
            assert isinstance(inspect.getattr_static(MachineCom, name), property), f"MachineCom.{name}"


def _comm_uses(root):
    """Names the printer and the CLI use on their comm object (``comm.x``, ``self._comm.x``)."""
    used = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            value = node.value
            if (isinstance(value, ast.Name) and value.id == "comm") or \
                    (isinstance(value, ast.Attribute) and value.attr == "_comm"
                     and isinstance(value.value, ast.Name) and value.value.id == "self"):
                used.add((str(path.relative_to(PACKAGE.parent)), node.attr))
    return used


def test_the_printer_uses_nothing_of_machinecom_beyond_the_comm_protocol():
    uses = _comm_uses(PACKAGE / "printer") | _comm_uses(PACKAGE / "cli")
    assert len({name for _, name in uses}) > 20  # the scan sees the uses
    outside = sorted((where, name) for where, name in uses if name not in _members(Comm))
    assert not outside, f"used on MachineCom but not in octohost.comm.callback.Comm: {outside}"
