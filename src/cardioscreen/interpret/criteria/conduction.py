"""AV conduction and intraventricular conduction criteria (AHA/ACCF/HRS recommendations for the standardization
and interpretation of the ECG, part III, Surawicz et al. 2009, adults).

- First-degree AV block: PR > 200 ms; short PR: PR < 120 ms.
- Complete RBBB: QRS >= 120 ms; rsr', rsR' or rSR' in V1 or V2, or a broad notched R there; S wave longer than
  the R wave or > 40 ms in I and V6 (here: in I or V6; the terminal S in V6 is often short, and requiring both
  missed 5 of 15 PTB-XL CRBBB records of folds 1-8). Incomplete RBBB: the same with QRS 110-119 ms.
- Complete LBBB: QRS >= 120 ms; a broad, notched or slurred R in I, aVL, V5, V6 (R-peak time > 60 ms in V5/V6);
  V1 dominantly negative (QS or rS). Incomplete LBBB: QRS 110-119 ms, R-peak time > 60 ms in V5/V6, no q in I,
  V5, V6, V1 dominantly negative.
- LAFB: axis -45 to -90 degrees, qR in aVL (R dominant), rS in II, III, aVF; QRS < 120 ms unless with RBBB.
- LPFB: axis +90 to +180 degrees, rS in I and aVL, qR in III and aVF; QRS < 120 ms unless with RBBB.
- Non-specific IVCD: QRS > 110 ms without the criteria of RBBB or LBBB.

QRS durations are global (earliest onset to latest offset over the leads), as the recommendations define them.
"""

from __future__ import annotations

from cardioscreen.interpret.criteria.base import Context, Finding
from cardioscreen.signal.morphology import LeadWaves

__all__ = ["av_conduction", "bundle_branch_blocks", "fascicular_blocks", "ivcd"]

PR_LONG_MS, PR_SHORT_MS = 200.0, 120.0
QRS_COMPLETE_MS, QRS_INCOMPLETE_MS = 120.0, 110.0
S_WIDE_MS = 40.0
RBBB_V1_S_MS = 60.0
LBBB_R_PEAK_MS = 60.0
NO_Q_MV = 0.1
"""A q shallower than this (mV) counts as absent for incomplete LBBB."""
LAFB_AXIS, LPFB_AXIS = (-90.0, -45.0), (90.0, 180.0)
BBB_CODES = frozenset({"CRBBB", "IRBBB", "CLBBB", "ILBBB"})


def av_conduction(ctx: Context, found: set[str]) -> list[Finding]:
    """First-degree AV block or a short PR interval."""
    pr = ctx.value("pr_ms")
    if pr is None:
        return []
    evidence = (("pr", {"v": pr}),)
    if pr > PR_LONG_MS:
        return [Finding("1AVB", "abnormal", evidence)]
    if pr < PR_SHORT_MS:
        return [Finding("SHORTPR", "abnormal", evidence)]
    return []


def _dominant_r(w: LeadWaves) -> bool:
    """The R wave is larger than the Q and the S wave."""
    return w.r_mv > max(w.q_mv, w.s_mv)


def _rbbb_v1(w: LeadWaves) -> bool:
    """rsr'/rsR'/rSR' (a second positive wave after a narrow S) or a broad R with a positive end in V1/V2.

    The S before an R' is narrow (< 60 ms): after the wide, deep S of LBBB the elevated ST segment can look like
    a small terminal r' (5 of 15 PTB-XL CLBBB records of folds 1-8 were called RBBB without this limit).
    """
    return (w.r_prime_mv > 0 and w.s_ms < RBBB_V1_S_MS) or (
        _dominant_r(w) and w.terminal_mv > 0 and (w.notched or w.r_peak_time_ms > 50))


def _wide_s(w: LeadWaves) -> bool:
    return w.s_mv > 0 and (w.s_ms > S_WIDE_MS or w.s_ms > w.r_ms)


def _rbbb_evidence(ctx: Context, qrs: float) -> tuple[tuple[str, dict], ...] | None:
    v12 = [(n, w) for n, w in ctx.leads(("V1", "V2")).items() if _rbbb_v1(w)]
    wide = {n: w for n, w in ctx.leads(("I", "V6")).items() if _wide_s(w)}
    if not v12 or not wide:
        return None
    lead, w = v12[0]
    return (("qrs_global", {"v": qrs}), ("shape", {"lead": lead, "shape": w.shape}),
            *(("s_wide", {"v": s.s_ms, "lead": n}) for n, s in wide.items()))


def _lbbb_evidence(ctx: Context, qrs: float, complete: bool) -> tuple[tuple[str, dict], ...] | None:
    v1, left = ctx.lead("V1"), ctx.leads(("I", "aVL", "V5", "V6"))
    v56 = ctx.leads(("V5", "V6"))
    if v1 is None or _dominant_r(v1) or len(v56) < 2:
        return None
    late = {n: w.r_peak_time_ms for n, w in v56.items() if _dominant_r(w) and w.r_peak_time_ms > LBBB_R_PEAK_MS}
    notched = [n for n, w in left.items() if _dominant_r(w) and w.notched]
    upright = [n for n, w in left.items() if _dominant_r(w)]
    if complete:
        ok = len(upright) >= 2 and bool(late or notched)
    else:
        ok = bool(late) and all(w.q_mv < NO_Q_MV for w in ctx.leads(("I", "V5", "V6")).values())
    if not ok:
        return None
    evidence: list[tuple[str, dict]] = [("qrs_global", {"v": qrs}), ("shape", {"lead": "V1", "shape": v1.shape})]
    evidence += [("r_peak_time", {"v": v, "lead": n}) for n, v in late.items()]
    if notched:
        evidence.append(("notched", {"leads": notched}))
    return tuple(evidence)


def bundle_branch_blocks(ctx: Context, found: set[str]) -> list[Finding]:
    """Complete or incomplete right or left bundle branch block."""
    qrs = ctx.qrs_ms
    if qrs is None or qrs < QRS_INCOMPLETE_MS or not ctx.has_morphology or ctx.values.get("paced"):
        return []
    complete = qrs >= QRS_COMPLETE_MS
    right = _rbbb_evidence(ctx, qrs)
    if right is not None:
        return [Finding("CRBBB" if complete else "IRBBB", "abnormal", right)]
    left = _lbbb_evidence(ctx, qrs, complete)
    if left is not None:
        return [Finding("CLBBB" if complete else "ILBBB", "abnormal", left)]
    return []


def _fascicle(ctx: Context, axis_range: tuple[float, float], r_leads: tuple[str, ...], s_leads: tuple[str, ...]
              ) -> tuple[tuple[str, dict], ...] | None:
    axis = ctx.value("qrs_axis_deg")
    if axis is None or not axis_range[0] <= axis <= axis_range[1]:
        return None
    r_side, s_side = ctx.leads(r_leads), ctx.leads(s_leads)
    if len(r_side) < len(r_leads) or len(s_side) < len(s_leads):
        return None
    if not all(_dominant_r(w) for w in r_side.values()) or any(_dominant_r(w) for w in s_side.values()):
        return None
    return (("axis", {"v": axis}), *(("shape", {"lead": n, "shape": w.shape}) for n, w in (r_side | s_side).items()))


def fascicular_blocks(ctx: Context, found: set[str]) -> list[Finding]:
    """Left anterior or left posterior fascicular block (not with LBBB; QRS < 120 ms unless with RBBB)."""
    qrs = ctx.qrs_ms
    if qrs is None or not ctx.has_morphology or found & {"CLBBB", "ILBBB"} or ctx.values.get("paced"):
        return []
    if qrs >= QRS_COMPLETE_MS and "CRBBB" not in found:
        return []
    anterior = _fascicle(ctx, LAFB_AXIS, ("aVL",), ("II", "III", "aVF"))
    if anterior is not None:
        return [Finding("LAFB", "abnormal", anterior)]
    posterior = _fascicle(ctx, LPFB_AXIS, ("III", "aVF"), ("I", "aVL"))
    if posterior is not None:
        return [Finding("LPFB", "abnormal", posterior)]
    return []


def ivcd(ctx: Context, found: set[str]) -> list[Finding]:
    """Non-specific intraventricular conduction delay: QRS > 110 ms without a bundle branch block."""
    qrs = ctx.qrs_ms
    if qrs is None or qrs <= QRS_INCOMPLETE_MS or found & BBB_CODES or ctx.values.get("paced"):
        return []
    return [Finding("IVCD", "abnormal", (("qrs_global", {"v": qrs}),))]
