"""``interpret``: the rhythm's statements, the measurement statements and the network's findings as one ordered
interpretation with a summary line.

A measurement statement for a class the network also outputs carries the network's verdict: ``source="both"``
where both say so, ``disagreement=True`` where the network does not flag it. A class the network flags and the
criteria judged without finding it is shown as the network's, with ``disagreement=True``; a class the criteria do
not cover (or could not judge: no PR in atrial fibrillation) is the network's alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cardioscreen.interpret.criteria import Context, Finding, evaluate
from cardioscreen.interpret.statement import Interpretation, Statement
from cardioscreen.interpret.texts import check_lang, closing, evidence_text, statement_text
from cardioscreen.report.descriptions import describe
from cardioscreen.result import Prediction
from cardioscreen.signal.intervals import Intervals
from cardioscreen.signal.morphology import Morphology

__all__ = ["MINOR_CODES", "interpret", "summary_line"]

MINOR_CODES = frozenset({"SR", "SBRAD", "SARRH", "STACH", "PAC", "PVC", "1AVB", "SHORTPR", "IRBBB", "LAFB"})
"""Findings after which the summary still closes with "Otherwise normal ECG" (borderline, not disease)."""
GROUP_CODES = frozenset({"NORM", "MI", "STTC", "CD", "HYP"})
"""The network's superclasses (and NORM): no statement of their own, the specific classes say it."""
_FEMALE = {"f": True, "female": True, "w": True, "woman": True, "m": False, "male": False, "man": False}


def _female(sex: str | None) -> bool | None:
    return None if sex is None else _FEMALE.get(str(sex).strip().lower())


def _network(p: Prediction, key: str) -> tuple[str, dict[str, Any]]:
    """The network's probability and threshold in percent, to one decimal where whole percents would not tell
    them apart."""
    digits = 0 if round(100 * p.probability) != round(100 * p.threshold) else 1
    return key, {"p": f"{100 * p.probability:.{digits}f}", "t": f"{100 * p.threshold:.{digits}f}"}


def _measured(f: Finding, net: Prediction | None, lang: str) -> Statement:
    evidence = list(f.evidence)
    source, disagree = "measurement", False
    if net is not None and net.flagged:
        source = "both"
        evidence.append(_network(net, "network"))
    elif net is not None and getattr(net, "assessed", True):
        disagree = True
        evidence.append(_network(net, "network_no"))
    return Statement(code=f.code, text=statement_text(f.code, lang, f.args), source=source,
                     evidence=evidence_text(evidence, lang), severity=f.severity, disagreement=disagree)


def _model_only(p: Prediction, judged: bool, lang: str) -> Statement:
    evidence = [_network(p, "network")] + ([("criteria_no", {})] if judged else [])
    return Statement(code=p.code, text=describe(p.code, lang)[0], source="model",
                     evidence=evidence_text(evidence, lang), severity="abnormal", disagreement=judged)


def summary_line(rhythm: Sequence[Statement], findings: Sequence[Statement], complete: bool, lang: str) -> str:
    """The rhythm sentence(s), the abnormal findings, and the closing: "Normal ECG." with nothing abnormal,
    "Otherwise normal ECG." when every abnormal statement is minor (:data:`MINOR_CODES`), else "Abnormal ECG.";
    never normal when the measurements were not ``complete`` (no QRS duration or no amplitudes)."""
    abnormal = [s for s in (*rhythm, *findings) if s.severity != "normal"]
    if abnormal and not all(s.code in MINOR_CODES for s in abnormal):
        kind = "abnormal"
    elif not complete:
        kind = "incomplete"
    else:
        kind = "otherwise_normal" if abnormal else "normal"
    shown = [*rhythm, *(s for s in findings if s.severity != "normal")]
    return " ".join([*(s.text.rstrip(".") + "." for s in shown), closing(kind, lang)])


def interpret(
    rhythm: Any,
    intervals: Intervals | Mapping[str, Any] | None,
    morphology: Morphology | Mapping[str, Any] | None,
    predictions: Sequence[Prediction],
    *,
    sex: str | None = None,
    age: float | None = None,
    lang: str = "en",
) -> Interpretation:
    """The interpretation of one record.

    Parameters
    ----------
    rhythm : RhythmResult or None
        From :func:`cardioscreen.rhythm.ecg_rhythm`; its ``statements(lang)`` come first. None: no rhythm
        statement.
    intervals : Intervals or mapping or None
        The record's intervals (or their ``to_dict()``).
    morphology : Morphology or mapping or None
        Its per-lead amplitudes (or their ``to_dict()``); None: no amplitude criterion is judged.
    predictions : sequence of Prediction
        The network's classes for the record (code, task, probability, threshold, flagged).
    sex : str, optional
        ``"M"`` / ``"F"`` (or male / female): sex-specific limits (Cornell, QTc, ST elevation in V2-V3).
    age : float, optional
        Years: the ST-elevation limit in V2-V3 of men.
    lang : str
        ``"en"`` or ``"ru"``.

    Returns
    -------
    Interpretation
    """
    lang = check_lang(lang)
    values = intervals.to_dict() if isinstance(intervals, Intervals) else dict(intervals or {})
    mo = morphology if isinstance(morphology, Morphology) else Morphology.from_dict(morphology or {})
    ctx = Context(values, mo, female=_female(sex), age=age)
    findings, judged = evaluate(ctx)
    network = {p.code: p for p in predictions if p.code not in GROUP_CODES}
    statements = [_measured(f, network.get(f.code), lang) for f in findings]
    found = {f.code for f in findings}
    statements += [_model_only(p, p.code in judged, lang) for p in network.values()
                   if p.flagged and p.code not in found]
    rhythm_statements = list(rhythm.statements(lang)) if rhythm is not None else []
    ordered = tuple(rhythm_statements + sorted(statements, key=lambda s: s.severity != "urgent"))
    complete = ctx.has_morphology and ctx.qrs_ms is not None
    return Interpretation(summary=summary_line(rhythm_statements, statements, complete, lang), statements=ordered,
                          urgent=any(s.severity == "urgent" for s in ordered), lang=lang)
