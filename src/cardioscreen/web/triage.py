"""Which studies a doctor must see first: urgent findings of our interpretation and of the recording device.

A study is *urgent* when our interpretation says so (its ``urgent`` flag: atrial fibrillation, a STEMI pattern, a
very long QTc) or when the cart's own statements, read from the file into ``record.meta["statements"]``, name an
acute myocardial infarction or another emergency. The queue lists urgent studies first, each with the reasons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEVICE_ALERTS", "Triage", "device_alerts", "triage"]

DEVICE_ALERTS: dict[str, re.Pattern[str]] = {
    "acute_mi": re.compile(
        r"\bacute\s+(mi|myocardial\s+infarct(ion)?|infarct(ion)?|st[\s-]*elevation\s+mi)\b"
        r"|\binfarct(ion)?\s*,?\s*((possibly|probably)\s+)?acute\b|\bstemi\b|\bst[\s-]*elevation\s+myocardial\s+infarct",
        re.IGNORECASE),
    "acute_injury": re.compile(r"\bacute\s+(injury|ischemia|ischaemia)\b|\binjury\s+current\b", re.IGNORECASE),
    "ventricular_arrhythmia": re.compile(r"\bventricular\s+(tachycardia|fibrillation|flutter)\b", re.IGNORECASE),
    "complete_heart_block": re.compile(
        r"\b(complete|third[\s-]*degree|3rd[\s-]*degree)\s+(av\s+|atrioventricular\s+|heart\s+)?block\b",
        re.IGNORECASE),
}
"""Alert name -> the pattern of a device statement that makes a study urgent (vendors' wordings: Philips
">>> Acute MI <<<", "Inferior infarct, acute"; GE "***ACUTE MI / STEMI***"; "Complete AV block"...). An old
infarct ("age undetermined") is not an alert."""


@dataclass(frozen=True)
class Triage:
    """The urgency of a study.

    Attributes
    ----------
    urgent : bool
        Whether the study goes to the top of the doctor's queue.
    reasons : list of dict
        Why: ``{"source": "analysis", "code": ..., "text": ...}`` for each urgent statement of our interpretation,
        ``{"source": "device", "code": <alert name>, "text": <the device's statement>}`` for each alerting device
        statement; empty when not urgent.
    """

    urgent: bool
    reasons: list[dict[str, str]]


def device_alerts(statements: Iterable[str]) -> list[dict[str, str]]:
    """The device statements that name an emergency, each with the name of its alert (``DEVICE_ALERTS``)."""
    alerts = []
    for statement in statements:
        name = next((name for name, pattern in DEVICE_ALERTS.items() if pattern.search(statement)), None)
        if name is not None:
            alerts.append({"source": "device", "code": name, "text": statement})
    return alerts


def _analysis_reasons(interpretation: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """Our urgent statements (severity ``urgent``), or the summary line when the flag is set but none is marked."""
    if not interpretation or not interpretation.get("urgent"):
        return []
    urgent = [s for s in interpretation.get("statements") or [] if s.get("severity") == "urgent"]
    if not urgent:
        return [{"source": "analysis", "code": "", "text": str(interpretation.get("summary", ""))}]
    return [{"source": "analysis", "code": str(s.get("code", "")), "text": str(s.get("text", ""))} for s in urgent]


def triage(result: Mapping[str, Any] | None, device_statements: Iterable[str]) -> Triage:
    """The urgency of a study from its result (``AnalysisResult.to_dict()``, or None) and the device statements."""
    reasons = _analysis_reasons((result or {}).get("interpretation")) + device_alerts(device_statements)
    return Triage(bool(reasons), reasons)
