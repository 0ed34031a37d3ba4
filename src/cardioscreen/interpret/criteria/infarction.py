"""Pathological Q waves by territory (fourth universal definition of myocardial infarction, Thygesen et al. 2018):
any Q wave > 20 ms or a QS complex in V2-V3; a Q wave >= 30 ms and >= 0.1 mV deep or a QS complex in I, II, aVL,
aVF or V4-V6; in two leads of a contiguous group (I, aVL; V1-V6; II, III, aVF). Codes are PTB-XL's (IMI, ASMI, AMI,
LMI, ILMI, ALMI). Not stated with LBBB or pacing, which give Q waves without infarction.
"""

from __future__ import annotations

from cardioscreen.interpret.criteria.base import Context, Finding
from cardioscreen.signal.morphology import LeadWaves

__all__ = ["q_waves"]

Q_V2V3_MS = 20.0
Q_MS, Q_MV = 30.0, 0.1
QUALIFYING = ("I", "II", "aVL", "aVF", "V2", "V3", "V4", "V5", "V6")
GROUPS = {"inferior": ("II", "III", "aVF"), "high_lateral": ("I", "aVL"), "precordial": ("V1", "V2", "V3", "V4",
                                                                                         "V5", "V6")}


def _pathological(lead: str, w: LeadWaves) -> bool:
    if w.qs:
        return True
    if lead in ("V2", "V3"):
        return w.q_ms > Q_V2V3_MS
    return w.q_ms >= Q_MS and w.q_mv >= Q_MV


def _territories(hits: dict[str, list[str]]) -> set[str]:
    """``inferior``, ``anterior`` / ``anteroseptal`` and ``lateral`` from the qualifying leads of each group."""
    out = set()
    if len(hits["inferior"]) >= 2:
        out.add("inferior")
    if len(hits["high_lateral"]) >= 2:
        out.add("lateral")
    pre = set(hits["precordial"])
    if len(pre) >= 2:
        if pre & {"V5", "V6"}:
            out.add("lateral")
        if pre & {"V2", "V3"}:
            out.add("anteroseptal")
        elif "V4" in pre:
            out.add("anterior")
    return out


def _code(territories: set[str]) -> str | None:
    front = territories & {"anterior", "anteroseptal"}
    if "lateral" in territories:
        return "ILMI" if "inferior" in territories else ("ALMI" if front else "LMI")
    if front:
        return "ASMI" if "anteroseptal" in front else "AMI"
    return "IMI" if "inferior" in territories else None


def q_waves(ctx: Context, found: set[str]) -> list[Finding]:
    """One statement for the territories with pathological Q waves (plus IMI when inferior goes with anterior)."""
    if not ctx.has_morphology or found & {"CLBBB", "ILBBB"} or ctx.values.get("paced"):
        return []
    qualifying = {n: w for n, w in ctx.leads(QUALIFYING).items() if _pathological(n, w)}
    hits = {g: [n for n in names if n in qualifying] for g, names in GROUPS.items()}
    territories = _territories(hits)
    codes = [_code(territories)]
    if "inferior" in territories and territories & {"anterior", "anteroseptal"} and "lateral" not in territories:
        codes.append("IMI")
    out = []
    for code in codes:
        if code is None:
            continue
        leads = [n for g in GROUPS for n in hits[g] if len(hits[g]) >= 2]
        evidence = tuple(("qs", {"lead": n}) if qualifying[n].qs else
                         ("q_wave", {"ms": qualifying[n].q_ms, "mv": qualifying[n].q_mv, "lead": n}) for n in leads)
        out.append(Finding(code, "abnormal", evidence, {"leads": leads}))
    return out
