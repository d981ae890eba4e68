"""The plugin manager as the printer hands it to MachineCom, plus the printer's own phase handlers.

The printer needs to see some commands on their way to the printer: temperature offsets
rewrite target temperatures of printed file lines (queuing phase), and the fan speed for the
scripts' ``last_fanspeed`` comes from sent M106/M107. Rather than reach into the comm layer,
the printer appends its handlers to the plugins' handlers of those hooks, last, so they see
what plugins made of a line. A handler can be conditional (the offset rewrite runs only while an
offset is set); while it is off, MachineCom gets the plugin manager's own cached tuple and the
hot path is untouched.
"""

HANDLER_ID = "octohost.printer"


class CommPluginView:
    def __init__(self, plugin_manager, extra_handlers):
        """``extra_handlers``: {hook name: (handler, is_active callable or None)}."""
        self._plugin_manager = plugin_manager
        self._extra = {name: ((HANDLER_ID, handler),) for name, (handler, _) in extra_handlers.items()}
        self._active = {name: active for name, (_, active) in extra_handlers.items()}
        self._combined = {}

    def handlers(self, name):
        base = self._plugin_manager.handlers(name)
        extra = self._extra.get(name)
        if extra is None:
            return base
        active = self._active[name]
        if active is not None and not active():
            return base
        cached = self._combined.get(name)
        if cached is None or cached[0] is not base:
            cached = self._combined[name] = (base, base + extra)
        return cached[1]

    def has_handlers(self, name):
        return bool(self.handlers(name))

    def __getattr__(self, attribute):
        return getattr(self._plugin_manager, attribute)
