"""Hook specifications: the hooks of the OctoPrint hook reference that octohost calls.

Canonical names are the OctoPrint names without the ``octoprint.`` prefix
(``comm.protocol.gcode.queuing``). Native pluggy plugins implement a function named after the
canonical name with dots replaced by underscores (``comm_protocol_gcode_queuing``).

Parameters are passed positionally, as OctoPrint does, except those marked with ``@keywords``,
which OctoPrint passes as keywords. Handlers written OctoPrint-style should accept ``*args, **kwargs``.
"""

import inspect

import pluggy

PROJECT = "octohost"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


def keywords(*names):
    """Mark the spec parameters that OctoPrint passes as keywords (the rest go positionally)."""

    def mark(fn):
        fn.keyword_params = names
        return fn

    return mark


class HookSpecs:
    # -- access -------------------------------------------------------------------------------
    @hookspec
    def access_permissions(self):
        """Return a list of additional permission dicts (key, name, ...)."""

    @hookspec
    def access_users_factory(self, components, settings):
        """Return a user manager to use instead of the built-in one, or None."""

    @hookspec
    def accesscontrol_keyvalidator(self, apikey):
        """Return the user an API key belongs to, or None if the key is not this plugin's."""

    # -- cli ------------------------------------------------------------------------------------
    @hookspec
    def cli_commands(self, cli_group, pass_octoprint_ctx):
        """Return a list of click commands to add under ``octohost plugins``."""

    # -- comm ----------------------------------------------------------------------------------
    @hookspec
    def comm_protocol_firmware_info(self, comm_instance, firmware_name, firmware_data):
        """Firmware name and data parsed from the M115 report."""

    @hookspec
    def comm_protocol_firmware_capabilities(self, comm_instance, capability, enabled, already_defined):
        """One ``Cap:`` line of the M115 report."""

    @hookspec
    def comm_protocol_firmware_capability_report(self, comm_instance, firmware_capabilities):
        """All capabilities, once the report is complete."""

    @keywords("name", "params")
    @hookspec
    def comm_protocol_action(self, comm_instance, line, action, name, params):
        """A ``// action:`` line from the firmware."""

    @keywords("tags")
    @hookspec
    def comm_protocol_atcommand_queuing(self, comm_instance, phase, command, parameters, tags):
        """An ``@`` command is about to be queued."""

    @keywords("tags")
    @hookspec
    def comm_protocol_atcommand_sending(self, comm_instance, phase, command, parameters, tags):
        """An ``@`` command reached the head of the send queue."""

    @keywords("subcode", "tags")
    @hookspec
    def comm_protocol_gcode_queuing(self, comm_instance, phase, cmd, cmd_type, gcode, subcode, tags):
        """Rewrite, suppress or expand a command before it enters the send queue."""

    @keywords("subcode", "tags")
    @hookspec
    def comm_protocol_gcode_queued(self, comm_instance, phase, cmd, cmd_type, gcode, subcode, tags):
        """A command was added to the send queue (return value ignored)."""

    @keywords("subcode", "tags")
    @hookspec
    def comm_protocol_gcode_sending(self, comm_instance, phase, cmd, cmd_type, gcode, subcode, tags):
        """Rewrite or suppress a command just before it is written."""

    @keywords("subcode", "tags")
    @hookspec
    def comm_protocol_gcode_sent(self, comm_instance, phase, cmd, cmd_type, gcode, subcode, tags):
        """A command was written to the port (return value ignored)."""

    @hookspec
    def comm_protocol_gcode_received(self, comm_instance, line):
        """Return the received line, possibly modified; None drops it."""

    @hookspec
    def comm_protocol_gcode_error(self, comm_instance, error_message):
        """Return True to say the firmware error was handled and needs no further action."""

    @hookspec
    def comm_protocol_scripts(self, comm_instance, script_type, script_name):
        """Return (prefix, postfix[, variables]) for a GCODE script, or None."""

    @hookspec
    def comm_protocol_temperatures_received(self, comm_instance, parsed_temperatures):
        """Return the (possibly modified) parsed temperatures."""

    @hookspec
    def comm_transport_serial_additional_port_names(self, candidates):
        """Return a list of extra port names to offer."""

    @hookspec
    def comm_transport_serial_factory(self, comm_instance, port, baudrate, read_timeout):
        """Return an opened serial-like object for ``port``, or None to leave it to others."""

    # -- events --------------------------------------------------------------------------------
    @hookspec
    def events_register_custom_events(self):
        """Return a list of custom event names (prefixed with the plugin id on registration)."""

    # -- file manager --------------------------------------------------------------------------
    @hookspec
    def filemanager_analysis_factory(self):
        """Return a dict of file type to analysis queue factory."""

    @hookspec
    def filemanager_extension_tree(self):
        """Return additional file extensions as a nested dict (e.g. {"machinecode": {"gcode": ["g"]}})."""

    @keywords("links", "printer_profile", "allow_overwrite")
    @hookspec
    def filemanager_preprocessor(self, path, file_object, links, printer_profile, allow_overwrite):
        """Return a replacement file object for an upload, or None to keep it."""

    # -- backup and diagnostics (octohost.maintenance) --------------------------------------------
    @hookspec
    def plugin_backup_additional_excludes(self, excludes):
        """Return paths in the plugin's data folder to leave out of a backup ("." for all of it)."""

    @hookspec
    def plugin_backup_before_backup(self):
        """A backup is about to be written."""

    @keywords("error")
    @hookspec
    def plugin_backup_after_backup(self, error):
        """A backup was written (error False) or failed (error True)."""

    @hookspec
    def plugin_backup_before_restore(self):
        """A restore is about to replace the base folder's contents."""

    @keywords("error")
    @hookspec
    def plugin_backup_after_restore(self, error):
        """A restore finished (error False) or failed and was rolled back (error True)."""

    @hookspec
    def systeminfo_additional_bundle_files(self):
        """Bundled plugins only: return {name in the bundle: log path or callable giving the content}."""

    # -- printer -------------------------------------------------------------------------------
    @keywords("initial")
    @hookspec
    def printer_additional_state_data(self, initial):
        """Return a dict merged into the current data pushed to clients."""

    @hookspec
    def printer_factory(self, components):
        """Return a PrinterInterface to use instead of the built-in one, or None."""

    @keywords("port", "baudrate", "profile")
    @hookspec
    def printer_handle_connect(self, port, baudrate, profile):
        """Return True to stop the connect from going ahead."""

    @hookspec
    def printer_estimation_factory(self):
        """Return a PrintTimeEstimator class or factory, or None."""

    @hookspec
    def printer_sdcardupload(self, printer, filename, path, start_callback, success_callback, failure_callback):
        """Upload a file to the SD card; return the remote name, or None to leave it to others."""

    # -- server --------------------------------------------------------------------------------
    @hookspec
    def server_api_after_request(self):
        """Return a list of functions run after each API request."""

    @hookspec
    def server_api_before_request(self):
        """Return a list of functions run before each API request."""

    @hookspec
    def server_http_access_validator(self, request):
        """Raise an HTTP error to refuse a request to a protected Tornado route."""

    @hookspec
    def server_http_bodysize(self, current_max_body_sizes):
        """Return a list of (method, path suffix, max size) tuples."""

    @hookspec
    def server_http_routes(self, server_routes):
        """Return a list of Tornado (path, handler, kwargs) tuples, mounted under /plugin/<id>."""

    @hookspec
    def server_sockjs_authed(self, socket, user):
        """A push socket client authenticated (user) or lost its login (None)."""

    @hookspec
    def server_sockjs_register(self, socket, user):
        """Return False to refuse a push socket client."""

    @hookspec
    def server_sockjs_emit(self, socket, user, message, payload):
        """Return False to keep a message from a push socket client."""

    @hookspec
    def system_additional_commands(self):
        """Return a list of system command dicts (name, action, command, ...)."""

    # -- timelapse -----------------------------------------------------------------------------
    @hookspec
    def timelapse_extensions(self):
        """Return a list of further file extensions of timelapse videos (listed, downloadable)."""

    @hookspec
    def timelapse_capture_pre(self, filename):
        """A timelapse frame is about to be captured to ``filename`` (on the capture thread)."""

    @hookspec
    def timelapse_capture_post(self, filename, success):
        """A timelapse frame capture to ``filename`` ended; ``success`` says whether it worked."""

    # -- ui ------------------------------------------------------------------------------------
    @hookspec
    def ui_web_templatetypes(self, template_sorting, template_rules):
        """Return a list of (type, sorting rule, rule) tuples for new template types."""


def canonical_to_pluggy(name):
    return name.replace(".", "_")


def _spec_table():
    table = {}
    for attr, fn in vars(HookSpecs).items():
        if attr.startswith("_") or not callable(fn):
            continue
        names = list(inspect.signature(fn).parameters)[1:]
        keyword_names = getattr(fn, "keyword_params", ())
        table[attr] = (tuple(n for n in names if n not in keyword_names), tuple(keyword_names))
    return table


#: pluggy name -> (positional parameter names, keyword parameter names)
SPEC_PARAMS = _spec_table()

#: pluggy name -> canonical dotted name, for the hooks defined here
CANONICAL = {}
for _canonical in (
    "access.permissions", "access.users.factory", "accesscontrol.keyvalidator", "cli.commands",
    "comm.protocol.firmware.info", "comm.protocol.firmware.capabilities",
    "comm.protocol.firmware.capability_report", "comm.protocol.action",
    "comm.protocol.atcommand.queuing", "comm.protocol.atcommand.sending",
    "comm.protocol.gcode.queuing", "comm.protocol.gcode.queued", "comm.protocol.gcode.sending",
    "comm.protocol.gcode.sent", "comm.protocol.gcode.received", "comm.protocol.gcode.error",
    "comm.protocol.scripts", "comm.protocol.temperatures.received",
    "comm.transport.serial.additional_port_names", "comm.transport.serial.factory",
    "events.register_custom_events", "filemanager.analysis.factory", "filemanager.extension_tree",
    "filemanager.preprocessor", "printer.additional_state_data", "printer.factory",
    "printer.handle_connect", "printer.estimation.factory", "printer.sdcardupload",
    "server.api.after_request", "server.api.before_request", "server.http.access_validator",
    "server.http.bodysize", "server.http.routes", "server.sockjs.authed", "server.sockjs.register",
    "server.sockjs.emit", "system.additional_commands", "timelapse.extensions", "timelapse.capture.pre",
    "timelapse.capture.post", "ui.web.templatetypes",
    "plugin.backup.additional_excludes", "plugin.backup.before_backup", "plugin.backup.after_backup",
    "plugin.backup.before_restore", "plugin.backup.after_restore", "systeminfo.additional_bundle_files",
):
    CANONICAL[canonical_to_pluggy(_canonical)] = _canonical
assert set(CANONICAL) == set(SPEC_PARAMS), set(CANONICAL) ^ set(SPEC_PARAMS)


def canonical_name(name):
    """Map any accepted spelling of a hook name to its canonical dotted form.

    ``octoprint.comm.protocol.gcode.queuing``, ``octohost.comm.protocol.gcode.queuing``,
    ``comm.protocol.gcode.queuing`` and ``comm_protocol_gcode_queuing`` are one hook.
    Names of hooks that plugins define for each other keep their dotted form minus the prefix.
    """
    for prefix in ("octoprint.", "octohost."):
        if name.startswith(prefix):
            name = name[len(prefix):]
            break
    return CANONICAL.get(name, name)
