"""The plugin manager as the printer hands it to MachineCom, plus the printer's offset rewrite.

Temperature offsets must change target temperatures of printed file lines before they are
queued. Rather than reach into the comm layer, the printer appends its handler to the plugins'
``comm.protocol.gcode.queuing`` handlers, last, so it sees what plugins made of a line, and only
while an offset is set. Every phase of every line asks for its handlers, so the view costs one
comparison and one call on top of the plugin manager's cached lookup.
"""

QUEUING_HOOK = "comm.protocol.gcode.queuing"
HANDLER_ID = "octohost.printer"


class CommPluginView:
    def __init__(self, plugin_manager, queuing_handler, active):
        self._plugin_manager = plugin_manager
        self._base = plugin_manager.handlers
        self._entry = ((HANDLER_ID, queuing_handler),)
        self._active = active
        self._combined = (None, ())

    def handlers(self, name):
        if name == QUEUING_HOOK and self._active():
            base = self._base(name)
            if self._combined[0] is not base:
                self._combined = (base, base + self._entry)
            return self._combined[1]
        return self._base(name)

    def has_handlers(self, name):
        return bool(self.handlers(name))

    def __getattr__(self, attribute):
        return getattr(self._plugin_manager, attribute)
