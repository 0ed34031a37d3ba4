"""Per-class decision thresholds on reported probabilities, tuned on validation records.

Rule: among the cut points between consecutive distinct validation probabilities of a class, keep those whose
sensitivity is at least ``min_sensitivity`` and take the one maximising the objective (F1 by default, or Youden's
J); ties go to the lowest threshold. A threshold lies half-way between the two probabilities it separates, never
on a validation probability, and since the calibration maps are strictly increasing it is never a plateau of the
map (the isotonic maps put some thresholds on their top level, so only that level was ever flagged).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cardioscreen.errors import CardioScreenError

DEFAULT_MIN_SENSITIVITY = 0.5
"""Default sensitivity floor: a flag should catch at least half of the validation positives."""


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> np.ndarray:
    return np.asarray(2 * tp / np.maximum(2 * tp + fp + fn, 1))


def _youden(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> np.ndarray:
    return np.asarray(tp / np.maximum(tp + fn, 1) + tn / np.maximum(tn + fp, 1) - 1)


OBJECTIVES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "f1": _f1,
    "youden": _youden,
}
"""Threshold objectives on per-candidate confusion counts ``(tp, fp, fn, tn)``."""


def _cut_points(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``p`` (ascending) and the threshold that flags each value and everything above it:
    half-way to the next lower value (the lowest value gets itself)."""
    values = np.unique(p)
    return values, np.r_[values[0], (values[1:] + values[:-1]) / 2]


def class_threshold(y: np.ndarray, p: np.ndarray, objective: str = "f1",
                    min_sensitivity: float = DEFAULT_MIN_SENSITIVITY) -> float:
    """Threshold for one class from its 0/1 labels ``y`` and probabilities ``p`` (both ``(n,)``, both classes
    present); see the module doc."""
    values, cuts = _cut_points(p)
    truth = y > 0.5
    pred = p[None, :] >= values[:, None]
    tp, fp = (pred & truth).sum(1), (pred & ~truth).sum(1)
    fn, tn = truth.sum() - tp, (~truth).sum() - fp
    score = OBJECTIVES[objective](tp, fp, fn, tn).astype(np.float64)
    score[tp < min_sensitivity * truth.sum()] = -np.inf
    return float(cuts[int(np.argmax(score))])


def fit_thresholds(
    Y: np.ndarray,
    P: np.ndarray,
    mask: np.ndarray | None = None,
    objective: str = "f1",
    min_sensitivity: float = DEFAULT_MIN_SENSITIVITY,
    default: float = 0.5,
) -> np.ndarray:
    """Per-class thresholds ``(C,)`` on the (validation) probabilities ``P`` ``(n, C)`` with labels ``Y``.

    A class without both a known positive and a known negative gets ``default``.
    """
    if objective not in OBJECTIVES:
        raise CardioScreenError(f"unknown threshold objective {objective!r}; choose one of {', '.join(OBJECTIVES)}")
    if not 0 <= min_sensitivity <= 1:
        raise CardioScreenError(f"the sensitivity floor must lie in [0, 1], got {min_sensitivity}")
    Y, P = np.asarray(Y, dtype=np.float64), np.asarray(P, dtype=np.float64)
    known = np.ones(P.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    out = np.full(P.shape[1], default, dtype=np.float64)
    for j in range(P.shape[1]):
        y, p = Y[known[:, j], j], P[known[:, j], j]
        if 0 < (y > 0.5).sum() < len(y):
            out[j] = class_threshold(y, p, objective, min_sensitivity)
    return out
