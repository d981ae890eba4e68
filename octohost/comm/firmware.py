"""The firmware's M115 report: name, key/value data and ``Cap:`` capabilities, with their hooks."""


class FirmwareReport:
    """Collects the report; the ``ok`` after it (``pending``) completes the capability list."""

    def __init__(self, comm):
        self.comm = comm
        self.name = None
        self.data = {}
        self.capabilities = {}
        self.pending = False
        self.autoreport_temperatures = False

    def _call(self, hook, *args):
        for _ in self.comm.call_hook(hook, *args):
            pass

    def info(self, name, data):
        self.name = name
        self.data = data
        self.pending = True
        self._call("comm.protocol.firmware.info", name, dict(data))
        self.comm.callback.on_comm_firmware_info(name, dict(data))

    def capability(self, name, enabled):
        self._call("comm.protocol.firmware.capabilities", name, enabled, dict(self.capabilities))
        self.capabilities[name] = enabled
        self.pending = True

    def has(self, name):
        return self.capabilities.get(name, False)

    def report_complete(self):
        """The report is over: tell hooks and printer, switch on auto-reports the firmware offers."""
        self.pending = False
        capabilities = dict(self.capabilities)
        self._call("comm.protocol.firmware.capability_report", capabilities)
        self.comm.callback.on_comm_capabilities(capabilities)
        config = self.comm.config
        if config.autoreport and self.has("AUTOREPORT_TEMP") and not self.autoreport_temperatures:
            self.autoreport_temperatures = self.comm.send_command(
                f"M155 S{config.temperature_autoreport_interval}", tags={"source:connect"})
