"""G-code analysis: the pure parsers (:mod:`.gcode`, :mod:`.slicer`) and the background queues."""

from .gcode import analyse_file, interpret
from .queue import AbstractAnalysisQueue, AnalysisAborted, AnalysisOutcome, QueueEntry

__all__ = ["AbstractAnalysisQueue", "AnalysisAborted", "AnalysisOutcome", "QueueEntry", "analyse_file", "interpret"]
