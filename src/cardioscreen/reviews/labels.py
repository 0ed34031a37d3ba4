"""A conclusion's verdicts as PTB-XL labels: the SCP statements found present, and the verdict per class."""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

LIKELIHOOD = 100.0
"""The likelihood (PTB-XL's 0-100 scale) of a statement a doctor confirmed or added."""
STATEMENTS_FILE = Path(__file__).resolve().parents[1] / "data" / "ptbxl" / "scp_statements.csv"
"""PTB-XL's statement table, shipped in the package."""
with STATEMENTS_FILE.open(newline="") as _handle:
    SCP_STATEMENTS: frozenset[str] = frozenset(row[0] for row in list(csv.reader(_handle))[1:] if row)
"""Every SCP statement code (the first column of ``scp_statements.csv``)."""


def result_statements(result: Mapping[str, Any]) -> set[str]:
    """The statement codes an analysis result (``AnalysisResult.to_dict()``) states: its rhythm and the statements of
    its written interpretation, those that are SCP statements (the doctor accepts or rejects these)."""
    codes = {str(s.get("code")) for s in (result.get("interpretation") or {}).get("statements") or ()}
    codes.add(str((result.get("rhythm") or {}).get("code")))
    return codes & SCP_STATEMENTS


def review_labels(verdicts: Iterable[tuple[str, bool]], statements: Collection[str],
                  ) -> tuple[dict[str, float], dict[str, int]]:
    """``scp_codes`` and ``review_verdicts`` of a reviewed record.

    Parameters
    ----------
    verdicts : iterable of (code, present)
        The doctor's verdict per class: a flagged class confirmed (True) or rejected (False), or a class the
        doctor added (True). Codes are the model's classes, SCP statements or superclasses.
    statements : collection of str
        The SCP statement codes (``scp_statements.csv``).

    Returns
    -------
    scp_codes : dict
        ``{statement: 100.0}`` for each SCP statement found present (superclasses are not statements).
    review_verdicts : dict
        ``{class: 1 or 0}`` for every class with a verdict; the others are unknown for this record, not absent
        (:func:`cardioscreen.datasets.labels.with_verdicts`).
    """
    given = {str(code): bool(present) for code, present in verdicts}
    scp_codes = {code: LIKELIHOOD for code, present in sorted(given.items()) if present and code in statements}
    return scp_codes, {code: int(present) for code, present in sorted(given.items())}
