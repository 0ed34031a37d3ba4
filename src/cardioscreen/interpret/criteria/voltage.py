"""Voltage criteria: left and right ventricular hypertrophy and low QRS voltage (AHA/ACCF/HRS recommendations,
part V, Hancock et al. 2009), on the record's own millivolts.

- LVH: Sokolow-Lyon (S V1 + the larger R of V5/V6) >= 3.5 mV, or Cornell (R aVL + S V3) > 2.8 mV in men, > 2.0 mV
  in women (the men's limit where the sex is unknown). Not stated with LBBB, where the voltage criteria are not
  valid.
- RVH: right axis deviation (> +90 degrees) with R in V1 >= 0.7 mV, or R/S in V1 > 1 with R >= 0.5 mV, or
  R V1 + S V5/V6 >= 1.05 mV (Sokolow-Lyon); not with RBBB or a QRS >= 120 ms.
- Low QRS voltage: peak-to-peak QRS < 0.5 mV in every limb lead, or < 1.0 mV in every precordial lead.
"""

from __future__ import annotations

from cardioscreen.interpret.criteria.base import Context, Finding

__all__ = ["hypertrophy", "low_voltage"]

SOKOLOW_MV = 3.5
CORNELL_MV = {"male": 2.8, "female": 2.0}
RVH_AXIS_DEG = 90.0
RVH_R_V1_MV, RVH_DOMINANT_R_MV, RVH_SUM_MV = 0.7, 0.5, 1.05
LOW_VOLTAGE = {"limb": (("I", "II", "III", "aVR", "aVL", "aVF"), 0.5),
               "precordial": (("V1", "V2", "V3", "V4", "V5", "V6"), 1.0)}


def _lvh(ctx: Context, found: set[str]) -> Finding | None:
    mo = ctx.morphology
    if found & {"CLBBB", "ILBBB"}:
        return None
    limit = CORNELL_MV["female" if ctx.female else "male"]
    evidence = []
    if mo.sokolow_lyon_mv is not None and mo.sokolow_lyon_mv >= SOKOLOW_MV:
        evidence.append(("sokolow", {"v": mo.sokolow_lyon_mv}))
    if mo.cornell_mv is not None and mo.cornell_mv > limit:
        evidence.append(("cornell", {"v": mo.cornell_mv, "lim": limit}))
    return Finding("LVH", "abnormal", tuple(evidence)) if evidence else None


def _rvh(ctx: Context, found: set[str]) -> Finding | None:
    axis, qrs, v1 = ctx.value("qrs_axis_deg"), ctx.value("qrs_ms"), ctx.lead("V1")
    if axis is None or axis <= RVH_AXIS_DEG or v1 is None or found & {"CRBBB", "IRBBB"}:
        return None
    if qrs is not None and qrs >= 120.0:
        return None
    v56 = ctx.leads(("V5", "V6"))
    ratio = v1.r_mv / max(v1.s_mv, 1e-3)
    total = v1.r_mv + max((w.s_mv for w in v56.values()), default=0.0)
    evidence: list[tuple[str, dict]] = [("axis", {"v": axis})]
    if v1.r_mv >= RVH_R_V1_MV or (ratio > 1 and v1.r_mv >= RVH_DOMINANT_R_MV):
        evidence.append(("rv1", {"v": v1.r_mv, "ratio": min(ratio, 99.0)}))
    if v56 and total >= RVH_SUM_MV:
        evidence.append(("rvh_sum", {"v": total}))
    return Finding("RVH", "abnormal", tuple(evidence)) if len(evidence) > 1 else None


def hypertrophy(ctx: Context, found: set[str]) -> list[Finding]:
    """LVH by voltage and RVH."""
    if not ctx.has_morphology or ctx.values.get("paced"):
        return []
    return [f for f in (_lvh(ctx, found), _rvh(ctx, found)) if f is not None]


def low_voltage(ctx: Context, found: set[str]) -> list[Finding]:
    """Low QRS voltage in the limb leads, the precordial leads or both (one statement)."""
    if not ctx.has_morphology:
        return []
    low = {}
    for where, (names, limit) in LOW_VOLTAGE.items():
        leads = ctx.leads(names)
        if len(leads) == len(names) and max(w.qrs_pp_mv for w in leads.values()) < limit:
            low[where] = (max(w.qrs_pp_mv for w in leads.values()), limit)
    if not low:
        return []
    evidence = tuple(("low_voltage", {"v": v, "where": where, "lim": lim}) for where, (v, lim) in low.items())
    return [Finding("LVOLT", "abnormal", evidence, {"where": "all" if len(low) == 2 else next(iter(low))})]
