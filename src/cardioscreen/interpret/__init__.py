"""The written interpretation of a record: rhythm first, then statements grounded in measurements (AHA/ACCF/HRS
criteria, the fourth universal definition of MI), then the network's own findings, and a summary line.

``interpret(rhythm, intervals, morphology, predictions, sex=..., age=..., lang=...)`` returns an
:class:`Interpretation` of :class:`Statement` s; see :mod:`cardioscreen.interpret.compose`.
"""

from cardioscreen.interpret.compose import interpret
from cardioscreen.interpret.statement import Interpretation, Statement

__all__ = ["Interpretation", "Statement", "interpret"]
