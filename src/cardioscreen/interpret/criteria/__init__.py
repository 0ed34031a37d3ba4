"""Measurement criteria of the interpretation, applied in :data:`CRITERIA` order (conduction first, so that later
criteria can leave out what a bundle branch block explains)."""

from __future__ import annotations

from cardioscreen.interpret.criteria.base import Context, Criterion, Finding
from cardioscreen.interpret.criteria.conduction import av_conduction, bundle_branch_blocks, fascicular_blocks, ivcd
from cardioscreen.interpret.criteria.infarction import q_waves
from cardioscreen.interpret.criteria.repolarization import qt, st_t
from cardioscreen.interpret.criteria.voltage import hypertrophy, low_voltage

__all__ = ["CRITERIA", "MEASURED_CODES", "Context", "Finding", "evaluate"]

CRITERIA: tuple[tuple[Criterion, frozenset[str], tuple[str, ...]], ...] = (
    (av_conduction, frozenset({"1AVB", "SHORTPR"}), ("pr_ms",)),
    (bundle_branch_blocks, frozenset({"CRBBB", "IRBBB", "CLBBB", "ILBBB"}), ("qrs_ms", "morphology")),
    (fascicular_blocks, frozenset({"LAFB", "LPFB"}), ("qrs_axis_deg", "morphology")),
    (ivcd, frozenset({"IVCD"}), ("qrs_ms",)),
    (hypertrophy, frozenset({"LVH", "RVH"}), ("morphology",)),
    (low_voltage, frozenset({"LVOLT"}), ("morphology",)),
    (qt, frozenset({"LNGQT", "SHORTQT"}), ("qtc_framingham_ms",)),
    (q_waves, frozenset({"IMI", "ASMI", "AMI", "LMI", "ILMI", "ALMI"}), ("morphology",)),
    (st_t, frozenset({"STEMI_ANT", "STEMI_INF", "STEMI_LAT", "STD_", "INVT"}), ("morphology",)),
)
"""Each criterion, the statement codes it can make, and the measurements it needs (``"morphology"``: the per-lead
amplitudes); a code whose measurements are missing was not judged (so the network's flag on it is no
disagreement)."""

MEASURED_CODES = frozenset(code for _, codes, _ in CRITERIA for code in codes)


def evaluate(ctx: Context) -> tuple[list[Finding], set[str]]:
    """All findings of the criteria on ``ctx``, and the codes the measurements could judge."""
    findings: list[Finding] = []
    judged: set[str] = set()
    for criterion, codes, needs in CRITERIA:
        if all(ctx.has_morphology if need == "morphology" else ctx.value(need) is not None for need in needs):
            judged |= codes
        findings += criterion(ctx, {f.code for f in findings})
    return findings, judged
