"""The plugin manager as the printer hands it to MachineCom, with the printer's own queuing rewrite.

Temperature offsets must change target temperatures in printed file lines before they are
queued. Rather than reach into the comm layer, the printer appends its handler to the
``comm.protocol.gcode.queuing`` handlers, last so it sees what plugins made of a line, and
only while an offset is set: with no offsets MachineCom gets the plugin manager's own cached
tuple and the hot path is untouched.
"""

QUEUING_HOOK = "comm.protocol.gcode.queuing"
HANDLER_ID = "octohost.printer"


class CommPluginView:
    def __init__(self, plugin_manager, queuing_handler, active):
        self._plugin_manager = plugin_manager
        self._entry = ((HANDLER_ID, queuing_handler),)
        self._active = active

    def handlers(self, name):
        base = self._plugin_manager.handlers(name)
        if name == QUEUING_HOOK and self._active():
            return base + self._entry
        return base

    def has_handlers(self, name):
        return bool(self.handlers(name))

    def __getattr__(self, attribute):
        return getattr(self._plugin_manager, attribute)
