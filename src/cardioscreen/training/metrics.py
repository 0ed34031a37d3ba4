"""Record-level evaluation as in the PTB-XL benchmark: AUCs, F1, sensitivity/specificity, calibration error and
bootstrap intervals.

All functions take ``y`` (``(n_records, n_classes)`` in {0, 1}), ``scores`` (same shape, higher = more likely)
and an optional ``mask`` (same shape, bool: True where the label is known). A class counts in an average only
when the evaluated records hold at least one positive and one negative of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.stats import rankdata

CI_LEVEL = 0.90
"""Coverage of the bootstrap intervals."""


def _mask(y: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    return np.ones_like(y, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)


def evaluable(y: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Bool per class: at least one known positive and one known negative."""
    m = _mask(y, mask)
    pos = ((y > 0.5) & m).sum(axis=0)
    neg = ((y <= 0.5) & m).sum(axis=0)
    return np.asarray((pos > 0) & (neg > 0))


def binary_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of one class (Mann-Whitney with average ranks for ties); NaN without both classes."""
    pos = y > 0.5
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def class_aucs(y: np.ndarray, scores: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """AUC per class over its known labels (NaN where not evaluable)."""
    m = _mask(y, mask)
    return np.array([binary_auc(y[m[:, j], j], scores[m[:, j], j]) for j in range(y.shape[1])])


def macro_auc(y: np.ndarray, scores: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean AUC over the evaluable classes (NaN if none)."""
    aucs = class_aucs(y, scores, mask)
    return float(np.nanmean(aucs)) if np.isfinite(aucs).any() else float("nan")


def confusion(
    y: np.ndarray, scores: np.ndarray, thresholds: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class ``(tp, fp, fn, tn)`` counts of ``scores >= thresholds`` over known labels."""
    m = _mask(y, mask)
    pred = scores >= thresholds[None, :]
    truth = y > 0.5
    tp = (pred & truth & m).sum(axis=0)
    fp = (pred & ~truth & m).sum(axis=0)
    fn = (~pred & truth & m).sum(axis=0)
    tn = (~pred & ~truth & m).sum(axis=0)
    return tp, fp, fn, tn


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.full(num.shape, np.nan), where=den > 0)


def class_f1(y: np.ndarray, scores: np.ndarray, thresholds: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """F1 per class at ``thresholds`` (NaN for classes without known positives)."""
    tp, fp, fn, _ = confusion(y, scores, thresholds, mask)
    f1 = _ratio(2.0 * tp, 2.0 * tp + fp + fn)
    f1[(tp + fn) == 0] = np.nan
    return f1


def sensitivity_specificity(
    y: np.ndarray, scores: np.ndarray, thresholds: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class sensitivity and specificity at ``thresholds``."""
    tp, fp, fn, tn = confusion(y, scores, thresholds, mask)
    return _ratio(tp.astype(float), (tp + fn).astype(float)), _ratio(tn.astype(float), (tn + fp).astype(float))


def tune_thresholds(y: np.ndarray, scores: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per-class threshold maximising F1 on these (validation) records; 0.5 for a class without positives."""
    m = _mask(y, mask)
    out = np.full(y.shape[1], 0.5)
    for j in range(y.shape[1]):
        yj, sj = y[m[:, j], j] > 0.5, scores[m[:, j], j]
        if not yj.any():
            continue
        candidates = np.unique(sj)
        pred = sj[None, :] >= candidates[:, None]
        tp = (pred & yj).sum(axis=1)
        f1 = 2 * tp / (pred.sum(axis=1) + yj.sum())
        out[j] = float(candidates[int(np.argmax(f1))])
    return out


def bootstrap_ci(
    statistic: Callable[[np.ndarray], float],
    n_records: int,
    *,
    n_boot: int = 1000,
    level: float = CI_LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of ``statistic(rows)`` over bootstrap resamples of the ``n_records`` records.

    Resamples where the statistic is NaN (a class lost all its positives) are skipped.
    """
    rng = np.random.default_rng(seed)
    values = [statistic(rng.integers(0, n_records, n_records)) for _ in range(n_boot)]
    finite = np.array([v for v in values if np.isfinite(v)])
    if len(finite) == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """Binary ECE: bin ``p`` into ``n_bins`` equal-width bins, weight ``|mean(y) - mean(p)|`` by bin size."""
    y, p = np.asarray(y, dtype=np.float64).ravel(), np.asarray(p, dtype=np.float64).ravel()
    if len(y) == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    counts = np.bincount(bins, minlength=n_bins)
    gap = np.abs(np.bincount(bins, y, n_bins) - np.bincount(bins, p, n_bins))
    return float(gap[counts > 0].sum() / len(y))


def class_eces(y: np.ndarray, p: np.ndarray, mask: np.ndarray | None = None, n_bins: int = 10) -> np.ndarray:
    """ECE per class over its known labels (NaN for a class without a known positive)."""
    m = _mask(y, mask)
    return np.array([
        expected_calibration_error(y[m[:, j], j], p[m[:, j], j], n_bins) if (y[m[:, j], j] > 0.5).any()
        else float("nan")
        for j in range(y.shape[1])
    ])


def macro_ece(y: np.ndarray, p: np.ndarray, mask: np.ndarray | None = None, n_bins: int = 10) -> float:
    """Mean over classes with at least one known positive of the per-class ECE (known labels only)."""
    values = class_eces(y, p, mask, n_bins)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def per_class_ci(
    per_class: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    y: np.ndarray,
    scores: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    n_boot: int = 1000,
    level: float = CI_LEVEL,
    seed: int = 0,
) -> np.ndarray:
    """Percentile bootstrap interval ``(C, 2)`` of each class's ``per_class(y, scores, mask)`` value.

    One set of resamples of the records serves all classes; a resample where a class's value is NaN (it lost
    its positives) is skipped for that class only.
    """
    m = _mask(y, mask)
    rng = np.random.default_rng(seed)
    values = np.array([per_class(y[r], scores[r], m[r]) for r in
                       (rng.integers(0, len(y), len(y)) for _ in range(n_boot))]).reshape(n_boot, y.shape[1])
    tail = (1 - level) / 2 * 100
    out = np.full((y.shape[1], 2), np.nan)
    for j in range(y.shape[1]):
        finite = values[np.isfinite(values[:, j]), j]
        if len(finite):
            out[j] = np.percentile(finite, [tail, 100 - tail])
    return out


def class_figures(
    y: np.ndarray,
    scores: np.ndarray,
    thresholds: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Per class: known positives, AUC, ECE (of ``scores`` read as probabilities), sensitivity and specificity at
    ``thresholds``, each figure ``(C,)`` with its 90 % bootstrap interval ``(C, 2)`` under ``<name>_ci``."""
    m = _mask(y, mask)

    def sensitivity(yy: np.ndarray, ss: np.ndarray, mm: np.ndarray) -> np.ndarray:
        return sensitivity_specificity(yy, ss, thresholds, mm)[0]

    def specificity(yy: np.ndarray, ss: np.ndarray, mm: np.ndarray) -> np.ndarray:
        return sensitivity_specificity(yy, ss, thresholds, mm)[1]

    out: dict[str, np.ndarray] = {"positives": ((y > 0.5) & m).sum(axis=0)}
    for name, per_class in (("auc", class_aucs), ("ece", class_eces), ("sensitivity", sensitivity),
                            ("specificity", specificity)):
        out[name] = per_class(y, scores, m)
        out[f"{name}_ci"] = per_class_ci(per_class, y, scores, m, n_boot=n_boot, seed=seed)
    return out


def _macro_on(
    y: np.ndarray, scores: np.ndarray, mask: np.ndarray, classes: np.ndarray, per_class: Callable[..., np.ndarray]
) -> Callable[[np.ndarray], float]:
    def statistic(rows: np.ndarray) -> float:
        values = per_class(y[rows][:, classes], scores[rows][:, classes], mask[rows][:, classes])
        return float(np.mean(values)) if np.all(np.isfinite(values)) else float("nan")

    return statistic


def evaluate_scores(
    y: np.ndarray,
    scores: np.ndarray,
    classes: Sequence[str],
    thresholds: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """All record-level figures, with 90% bootstrap intervals over records.

    Returns
    -------
    dict
        ``macro_auc``, ``macro_auc_ci``, ``per_class_auc`` (evaluable classes only), ``macro_f1``,
        ``macro_f1_ci``, ``sensitivity``/``specificity`` (macro means) with ``_ci``, ``per_class_f1``,
        ``per_class_sensitivity``, ``per_class_specificity``, ``thresholds``, ``n_records``, ``classes_evaluated``.
    """
    m = _mask(y, mask)
    ok = np.flatnonzero(evaluable(y, m))
    aucs = class_aucs(y, scores, m)
    f1 = class_f1(y, scores, thresholds, m)
    sens, spec = sensitivity_specificity(y, scores, thresholds, m)
    names = [classes[int(j)] for j in ok]

    def macro_f1_fn(yy: np.ndarray, ss: np.ndarray, mm: np.ndarray) -> np.ndarray:
        return class_f1(yy, ss, thresholds[ok], mm)

    def sens_fn(yy: np.ndarray, ss: np.ndarray, mm: np.ndarray) -> np.ndarray:
        return sensitivity_specificity(yy, ss, thresholds[ok], mm)[0]

    def spec_fn(yy: np.ndarray, ss: np.ndarray, mm: np.ndarray) -> np.ndarray:
        return sensitivity_specificity(yy, ss, thresholds[ok], mm)[1]

    def ci(per_class: Callable[..., np.ndarray]) -> list[float]:
        if len(ok) == 0:
            return [float("nan"), float("nan")]
        return list(bootstrap_ci(_macro_on(y, scores, m, ok, per_class), len(y), n_boot=n_boot, seed=seed))

    def mean(values: np.ndarray) -> float:
        return float(np.mean(values[ok])) if len(ok) else float("nan")

    return {
        "macro_auc": mean(aucs),
        "macro_auc_ci": ci(class_aucs),
        "per_class_auc": {name: float(aucs[j]) for name, j in zip(names, ok, strict=True)},
        "macro_f1": mean(f1),
        "macro_f1_ci": ci(macro_f1_fn),
        "sensitivity": mean(sens),
        "sensitivity_ci": ci(sens_fn),
        "specificity": mean(spec),
        "specificity_ci": ci(spec_fn),
        "per_class_f1": {name: float(f1[j]) for name, j in zip(names, ok, strict=True)},
        "per_class_sensitivity": {name: float(sens[j]) for name, j in zip(names, ok, strict=True)},
        "per_class_specificity": {name: float(spec[j]) for name, j in zip(names, ok, strict=True)},
        "thresholds": {name: float(thresholds[j]) for name, j in zip(names, ok, strict=True)},
        "n_records": int(len(y)),
        "classes_evaluated": names,
    }


def prior_baseline(
    y_train: np.ndarray,
    mask_train: np.ndarray | None,
    y: np.ndarray,
    classes: Sequence[str],
    mask: np.ndarray | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """The naive class-prior model: every record scored with the training prevalence of each class.

    Its AUC is 0.5 by construction; its F1 is that of calling every record positive (threshold = prior).
    """
    m_train = _mask(y_train, mask_train)
    prior = _ratio(((y_train > 0.5) & m_train).sum(axis=0).astype(float), m_train.sum(axis=0).astype(float))
    prior = np.nan_to_num(prior)
    scores = np.broadcast_to(prior, y.shape).copy()
    return evaluate_scores(y, scores, classes, prior, mask, n_boot=n_boot, seed=seed)
