"""G-code analysis: the pure parsers (:mod:`.gcode`, :mod:`.slicer`) and the background queues.

The parsers are not imported here: they run in the analysis child process, and the daemon does
without their memory.
"""

from .queue import AbstractAnalysisQueue, AnalysisAborted, AnalysisOutcome, QueueEntry

__all__ = ["AbstractAnalysisQueue", "AnalysisAborted", "AnalysisOutcome", "QueueEntry"]
