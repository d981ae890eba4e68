"""OctoPrint style: replace the deprecated M107 with M106 S0 while queuing, log each sent M106.

Drop this file into BASEDIR/plugins/ (default ~/.octohost/plugins/) and restart octohost.
"""

__plugin_name__ = "Rewrite M107"
__plugin_version__ = "1.0.0"
__plugin_description__ = "Sends M106 S0 instead of M107"


class RewriteM107Plugin:
    def rewrite_m107(self, comm_instance, phase, cmd, cmd_type, gcode, *args, **kwargs):
        if gcode == "M107":
            return "M106 S0",
        return None

    def sent_m106(self, comm_instance, phase, cmd, cmd_type, gcode, *args, **kwargs):
        if gcode == "M106":
            self._logger.info("Just sent M106: %s", cmd)


def __plugin_load__():
    global __plugin_implementation__, __plugin_hooks__
    __plugin_implementation__ = RewriteM107Plugin()
    __plugin_hooks__ = {
        "octoprint.comm.protocol.gcode.queuing": __plugin_implementation__.rewrite_m107,
        "octoprint.comm.protocol.gcode.sent": __plugin_implementation__.sent_m106,
    }
