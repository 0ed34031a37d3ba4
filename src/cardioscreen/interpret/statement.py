"""What an interpretation is made of: statements (one finding each, with the measurement behind it) and the
interpretation of a record (ordered statements, a summary line, an urgency flag)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SEVERITIES", "SOURCES", "Interpretation", "Statement"]

SOURCES = ("measurement", "model", "both")
"""Where a statement comes from: the measurement criteria, the network, or both agreeing."""
SEVERITIES = ("normal", "abnormal", "urgent")
"""How a statement weighs: a normal finding, an abnormal one, or one a doctor must see the same day."""


@dataclass(frozen=True)
class Statement:
    """One interpretation statement.

    Attributes
    ----------
    code : str
        PTB-XL SCP code where one exists (``1AVB``, ``CRBBB``, ``LVH``...), else our own (``SHORTPR``,
        ``STEMI_INF``...).
    text : str
        The statement as a doctor reads it, in the interpretation's language.
    source : str
        One of :data:`SOURCES`.
    evidence : str
        The measurement that triggered it (``"PR 232 ms"``), or the network's probability for a model finding.
    severity : str
        One of :data:`SEVERITIES`.
    disagreement : bool
        True where the measurement criteria and the network's flag for the same class disagree (both are shown).
    """

    code: str
    text: str
    source: str
    evidence: str
    severity: str
    disagreement: bool = False

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"statement source {self.source!r} is not one of {SOURCES}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"statement severity {self.severity!r} is not one of {SEVERITIES}")

    def to_dict(self) -> dict[str, Any]:
        """``{"code", "text", "source", "evidence", "severity", "disagreement"}``."""
        return {"code": self.code, "text": self.text, "source": self.source, "evidence": self.evidence,
                "severity": self.severity, "disagreement": self.disagreement}


@dataclass(frozen=True)
class Interpretation:
    """The written interpretation of one record.

    Attributes
    ----------
    summary : str
        One line: the rhythm and rate, the abnormal findings, and "Otherwise normal ECG" / "Normal ECG" where
        that holds (e.g. "Sinus rhythm 64/min. Left anterior fascicular block. Otherwise normal ECG."), never
        "normal" where the measurements are incomplete.
    statements : tuple of Statement
        Rhythm statements first, then the measurement statements, then the network's findings.
    urgent : bool
        Whether any statement is urgent (atrial fibrillation or flutter, a STEMI pattern, QTc over 500 ms).
    lang : str
        Language of the texts.
    """

    summary: str
    statements: tuple[Statement, ...]
    urgent: bool
    lang: str = "en"

    def to_dict(self) -> dict[str, Any]:
        """``{"summary", "statements": [Statement.to_dict(), ...], "urgent", "lang"}``."""
        return {"summary": self.summary, "statements": [s.to_dict() for s in self.statements],
                "urgent": self.urgent, "lang": self.lang}
