"""Native pluggy style: show the layer number on the printer's display on every slicer layer comment.

Functions are named after the hook with dots as underscores; declare only the arguments you use.
``@order`` puts this handler before unordered ones, as ``(callback, order)`` does in OctoPrint style.
"""

from octohost.plugin import hookimpl, order

__plugin_name__ = "Layer display"
__plugin_version__ = "1.0.0"


@hookimpl
@order(10)
def comm_protocol_gcode_queuing(cmd, gcode, tags):
    if gcode is None and cmd.startswith("@layer "):
        return [("M117 Layer " + cmd.split(" ", 1)[1],)]
    return None
