"""``octoprint.filemanager``: file types by extension, from octohost's extension tree."""


def _tree():
    from octohost.compat import layer
    from octohost.files.extensions import ExtensionTree

    return ExtensionTree(layer.current_manager())


def get_file_type(filename):
    """``["machinecode", "gcode"]`` for ``x.gcode``; None for an unknown extension."""
    return _tree().type_path(filename)


def valid_file_type(filename, type=None, tree=None):
    return _tree().is_type(filename, type)


def get_extensions(type, subtree=None):
    return _tree().extensions(type)


def get_all_extensions(subtree=None):
    return _tree().extensions()


class FileDestinations:
    LOCAL = "local"
    SDCARD = "sdcard"
    PRINTER = "printer"
