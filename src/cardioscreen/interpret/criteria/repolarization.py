"""QT and ST-T criteria.

- Prolonged QT: QTc > 450 ms in men, > 460 ms in women (the men's limit where the sex is unknown), corrected by
  the linear Framingham formula, as the AHA/ACCF/HRS recommendations (part IV, Rautaharju et al. 2009) advise over
  Bazett's; urgent above 500 ms. Short QT: QTc <= 340 ms (the short-QT syndrome limit of the 2015 ESC guidelines;
  the AHA's 390 ms calls a sixth of normal adults short).
- ST elevation at the J point in two contiguous leads (fourth universal definition of MI, Thygesen et al. 2018):
  >= 0.1 mV in every lead but V2-V3, where the limit is >= 0.2 mV in men >= 40 years, >= 0.25 mV in men < 40
  years, >= 0.15 mV in women (0.2 mV where sex or age is unknown); a STEMI pattern per territory (anterior V1-V4,
  inferior II/III/aVF, lateral I/aVL/V5/V6), urgent. The J point, as the definition says, not J + 60 ms: the ST
  segment rises into the T wave, and at J + 60 ms these limits called 23 of 389 normal PTB-XL records (folds 1-8)
  an anterior STEMI, at the J point none. ST depression: horizontal or downsloping, >= 0.05 mV at the J point and
  still at J + 60 ms, in two contiguous leads (aVR aside). Not stated with a bundle branch block or pacing, whose
  ST-T changes are secondary.
- T-wave inversion: T <= -0.1 mV in two contiguous leads with a dominant R (aVR and V1 aside).
"""

from __future__ import annotations

from cardioscreen.interpret.criteria.base import Context, Finding, contiguous_leads

__all__ = ["qt", "st_t"]

QTC_LONG_MS = {"male": 450.0, "female": 460.0}
QTC_URGENT_MS = 500.0
QTC_SHORT_MS = 340.0
STE_MV = 0.1
STE_V2V3_MV = {"female": 0.15, "male_40": 0.2, "male_young": 0.25, "unknown": 0.2}
STD_MV = 0.05
INVT_MV = -0.1
TERRITORIES = {"STEMI_ANT": ("V1", "V2", "V3", "V4"), "STEMI_INF": ("II", "III", "aVF"),
               "STEMI_LAT": ("I", "aVL", "V5", "V6")}
ORDER = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
SECONDARY_ST = frozenset({"CLBBB", "CRBBB", "ILBBB"})
"""Conduction statements whose ST-T changes are secondary: no ST or T statement with them."""


def qt(ctx: Context, found: set[str]) -> list[Finding]:
    """Prolonged (urgent above 500 ms) or short QTc."""
    qtc, bazett, qt_ms = ctx.value("qtc_framingham_ms"), ctx.value("qtc_bazett_ms"), ctx.value("qt_ms")
    if qtc is None or bazett is None or qt_ms is None:
        return []
    evidence = (("qtc", {"v": qtc, "b": bazett, "qt": qt_ms}),)
    if qtc > QTC_LONG_MS["female" if ctx.female else "male"]:
        return [Finding("LNGQT", "urgent" if qtc > QTC_URGENT_MS else "abnormal", evidence)]
    if qtc <= QTC_SHORT_MS:
        return [Finding("SHORTQT", "abnormal", evidence)]
    return []


def _ste_limit(ctx: Context, lead: str) -> float:
    if lead not in ("V2", "V3"):
        return STE_MV
    if ctx.female is None:
        return STE_V2V3_MV["unknown"]
    if ctx.female:
        return STE_V2V3_MV["female"]
    if ctx.age is None:
        return STE_V2V3_MV["unknown"]
    return STE_V2V3_MV["male_40" if ctx.age >= 40 else "male_young"]




def st_t(ctx: Context, found: set[str]) -> list[Finding]:
    """STEMI patterns per territory, ST depression and T-wave inversion in contiguous leads."""
    if not ctx.has_morphology or found & SECONDARY_ST or ctx.values.get("paced"):
        return []
    leads = ctx.leads(ORDER)
    limits = {n: _ste_limit(ctx, n) for n in leads}
    raised = [n for n, w in leads.items() if w.st_j_mv >= limits[n]]
    out = []
    for code, territory in TERRITORIES.items():
        hit = contiguous_leads(raised, territory)
        if hit:
            evidence = tuple(("st_j", {"v": leads[n].st_j_mv, "lead": n, "lim": limits[n]}) for n in hit)
            out.append(Finding(code, "urgent", evidence, {"leads": hit}))
    depressed = contiguous_leads([n for n, w in leads.items() if n != "aVR" and max(w.st_j_mv, w.st60_mv) <= -STD_MV],
                                 ORDER)
    if depressed:
        evidence = tuple(("st_depression", {"v": leads[n].st_j_mv, "v60": leads[n].st60_mv, "lead": n})
                         for n in depressed)
        out.append(Finding("STD_", "abnormal", evidence, {"leads": depressed}))
    inverted = contiguous_leads([n for n, w in leads.items() if n not in ("aVR", "V1") and w.t_mv <= INVT_MV
                                 and w.r_mv > w.s_mv], ORDER)
    if inverted:
        out.append(Finding("INVT", "abnormal",
                           tuple(("t_wave", {"v": leads[n].t_mv, "lead": n}) for n in inverted), {"leads": inverted}))
    return out
