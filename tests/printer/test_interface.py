import inspect

from octohost.printer import PrinterCallback, PrinterInterface
from octohost.printer.standard import Printer

CONTRACT = {
    "can_modify_file": ["path", "sd"], "cancel_print": ["tags"], "change_tool": ["tool", "tags"],
    "commands": ["commands", "tags", "force"], "connect": ["port", "baudrate", "profile"], "disconnect": [],
    "extrude": ["amount", "speed", "tags"], "fake_ack": [], "feed_rate": ["factor", "tags"],
    "flow_rate": ["factor", "tags"], "get_connection_options": [], "get_current_connection": [],
    "get_current_data": [], "get_current_job": [], "get_current_temperatures": [], "get_state_id": [],
    "get_state_string": [], "get_temperature_history": [], "get_transport": [], "home": ["axes", "tags"],
    "is_cancelling": [], "is_closed_or_error": [], "is_current_file": ["path", "sd"], "is_error": [],
    "is_operational": [], "is_paused": [], "is_pausing": [], "is_printing": [], "is_ready": [],
    "job_on_hold": ["blocking"], "jog": ["axes", "relative", "speed", "tags"], "log_lines": [],
    "pause_print": ["tags"], "register_callback": ["callback"], "resume_print": ["tags"],
    "script": ["name", "context", "tags"], "select_file": ["path", "sd", "printAfterSelect", "pos", "tags"],
    "send_initial_callback": ["callback"], "set_job_on_hold": ["value", "blocking"],
    "set_temperature": ["heater", "value", "tags"], "set_temperature_offset": ["offsets", "tags"],
    "start_print": ["tags"], "toggle_pause_print": ["tags"], "unregister_callback": ["callback"],
    "unselect_file": [],
}
CALLBACKS = ["on_printer_add_log", "on_printer_add_message", "on_printer_add_temperature",
             "on_printer_received_registered_message", "on_printer_send_current_data",
             "on_printer_send_initial_data"]


def leading_parameters(function, count):
    params = [p.name for p in inspect.signature(function).parameters.values()
              if p.kind in (p.POSITIONAL_OR_KEYWORD, p.POSITIONAL_ONLY) and p.name not in ("self", "cls")]
    return params[:count]


def _declared(cls, name):
    """The method as declared, without calling descriptors (``get_connection_options`` on the
    class answers for the printer built last, which a test run may not have)."""
    found = inspect.getattr_static(cls, name)
    return getattr(found, "function", None) or getattr(found, "__func__", found)


def test_every_contract_method_with_its_parameters():
    for name, params in CONTRACT.items():
        for cls in (PrinterInterface, Printer):
            assert leading_parameters(_declared(cls, name), len(params)) == params, (cls.__name__, name)
        assert _declared(Printer, name) is not _declared(PrinterInterface, name), name
    for name in CALLBACKS:
        assert callable(getattr(PrinterCallback, name))


def test_identifiers():
    assert PrinterInterface.valid_axes == ("x", "y", "z", "e")
    assert PrinterInterface.valid_heater_regex.match("tool12") and PrinterInterface.valid_heater_regex.match("chamber")
    assert not PrinterInterface.valid_heater_regex.match("tool")
    assert PrinterInterface.valid_tool_regex.match("tool0") and not PrinterInterface.valid_tool_regex.match("bed")
