"""The file manager hooks, through real plugin files loaded by the PluginManager."""

import hashlib
import io
import os
import textwrap

import pytest

from octohost.files import InvalidType
from octohost.plugin import PluginManager

WAIT = 60


@pytest.fixture
def plugins(settings):
    folder = settings.folder("plugins")

    def load(**sources):
        for name, source in sources.items():
            with open(os.path.join(folder, f"{name}.py"), "w", encoding="utf-8") as f:
                f.write(textwrap.dedent(source))
        manager = PluginManager(settings)
        manager.discover(bundled=False, entry_points=False)
        return manager

    return load


X3G_PLUGIN = """
    def support_x3g_machinecode(*args, **kwargs):
        return dict(machinecode=dict(x3g=["x3g", "s3g"]))

    __plugin_name__ = "X3G"
    __plugin_hooks__ = {"octoprint.filemanager.extension_tree": support_x3g_machinecode}
"""

STRIP_PLUGIN = """
    import os
    from octohost.files import LineProcessorStream, StreamWrapper

    class CommentStripper(LineProcessorStream):
        def process_line(self, line):
            code = line.split(b";", 1)[0].strip()
            return code + b"\\n" if code else None

    def strip_all_comments(path, file_object, links=None, printer_profile=None, allow_overwrite=True, *args, **kwargs):
        name, _ = os.path.splitext(file_object.filename)
        if not name.endswith("_strip"):
            return file_object
        return StreamWrapper(file_object.filename, CommentStripper(file_object.stream()))

    __plugin_hooks__ = {"octoprint.filemanager.preprocessor": strip_all_comments}
"""

BROKEN_PREPROCESSOR = """
    def explode(path, file_object, *args, **kwargs):
        raise RuntimeError("preprocessor bug")

    __plugin_hooks__ = {"octoprint.filemanager.preprocessor": (explode, 1)}
"""

ANALYSIS_PLUGIN = """
    from octohost.files import AbstractAnalysisQueue

    class LineCountingQueue(AbstractAnalysisQueue):
        def _do_analysis(self, entry, high_priority=False):
            with open(entry.absolute_path, "rb") as f:
                lines = sum(1 for _ in f)
            if lines == 0:
                raise ValueError("empty file")
            return {"estimatedPrintTime": 10.0 * lines, "by": "plugin"}

    def factories(*args, **kwargs):
        return dict(gcode=LineCountingQueue)

    __plugin_hooks__ = {"octoprint.filemanager.analysis.factory": factories}
"""


def test_extension_tree_hook_adds_a_machinecode_type(plugins, make_manager):
    manager = make_manager(plugin_manager=plugins(x3g=X3G_PLUGIN))
    assert manager.file_type("part.s3g") == ["machinecode", "x3g"]
    assert manager.valid_extension("part.x3g")
    assert manager.add_file("part.x3g", io.BytesIO(b"\x00\x01")) == "part.x3g"
    assert manager.list_files()["part.x3g"]["typePath"] == ["machinecode", "x3g"]
    assert manager.extension_tree["machinecode"]["gcode"] == ["gcode", "gco", "g", "gc"]
    with pytest.raises(InvalidType):
        manager.add_file("part.xyz", io.BytesIO(b""))


def test_preprocessor_hook_rewrites_uploads(plugins, make_manager, tmp_path):
    manager = make_manager(plugin_manager=plugins(strip=STRIP_PLUGIN, broken=BROKEN_PREPROCESSOR))
    source = b"; header\nG1 X10 ; move\n\n;only comment\nG1 Y10\n"
    stripped = manager.add_file("part_strip.gcode", io.BytesIO(source))
    with open(manager.path_on_disk(stripped), "rb") as f:
        assert f.read() == b"G1 X10\nG1 Y10\n"
    assert manager.get_file(stripped)["hash"] == hashlib.md5(b"G1 X10\nG1 Y10\n").hexdigest()
    kept = manager.add_file("part.gcode", io.BytesIO(source))
    with open(manager.path_on_disk(kept), "rb") as f:
        assert f.read() == source

    staged = tmp_path / "upload.tmp"
    staged.write_bytes(source)
    from_disk = manager.add_file_from_path("disk_strip.gcode", str(staged))
    with open(manager.path_on_disk(from_disk), "rb") as f:
        assert f.read() == b"G1 X10\nG1 Y10\n"
    assert not staged.exists()


def test_analysis_factory_hook_replaces_the_gcode_analyser(plugins, make_manager):
    manager = make_manager(plugin_manager=plugins(counting=ANALYSIS_PLUGIN))
    path = manager.add_file("a.gcode", io.BytesIO(b"G1 X1\nG1 X2\nG1 X3\n"))
    assert manager.wait_for_analysis(path, WAIT)
    assert manager.get_file(path)["gcodeAnalysis"] == {"estimatedPrintTime": 30.0, "by": "plugin"}

    empty = manager.add_file("empty.gcode", io.BytesIO(b""))
    assert not manager.wait_for_analysis(empty, WAIT)
    assert "gcodeAnalysis" not in manager.get_file(empty)
    assert manager.get_metadata(empty)["analysisError"]
    assert not manager.is_analysing()
