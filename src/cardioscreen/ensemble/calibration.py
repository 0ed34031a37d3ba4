"""Per-class probability calibration (isotonic or Platt), decision thresholds and expected calibration error.

Everything here is fitted on the data it is given, which must be validation data; a fitted
:class:`PerClassCalibrator` is a plain JSON-able description (``to_dict`` / ``from_dict``), so a bundle stores
it without pickles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cardioscreen.errors import CardioScreenError

EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.asarray(np.log(p / (1 - p)))


def _fit_isotonic(p: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from sklearn.isotonic import IsotonicRegression  # fitting only: applying a calibrator needs numpy alone

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
    return {"kind": "isotonic", "x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}


def _fit_platt(p: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4).fit(_logit(p)[:, None], y)
    return {"kind": "platt", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}


_METHODS: dict[str, Callable[[np.ndarray, np.ndarray], dict[str, Any]]] = {
    "isotonic": _fit_isotonic,
    "platt": _fit_platt,
}

_APPLY: dict[str, Callable[[dict[str, Any], np.ndarray], np.ndarray]] = {
    "identity": lambda c, p: p,
    "isotonic": lambda c, p: np.interp(p, c["x"], c["y"]),
    "platt": lambda c, p: 1.0 / (1.0 + np.exp(-(c["a"] * _logit(p) + c["b"]))),
}


def _known(mask: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    return np.ones(shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)


class PerClassCalibrator:
    """One calibration map per class, fitted on validation probabilities.

    Parameters
    ----------
    method : {"isotonic", "platt"}
        Isotonic regression (monotone step function) or Platt scaling (logistic on the logit).
    min_per_class : int
        A class needs at least this many known positives and negatives; otherwise it keeps the identity map.

    Attributes
    ----------
    maps_ : list of dict
        Per class ``{"kind": "isotonic", "x", "y"}``, ``{"kind": "platt", "a", "b"}`` or ``{"kind": "identity"}``.
    """

    def __init__(self, method: str = "isotonic", min_per_class: int = 3) -> None:
        self.method = method
        self.min_per_class = min_per_class

    def fit(self, P: np.ndarray, Y: np.ndarray, mask: np.ndarray | None = None) -> PerClassCalibrator:
        """Fit on probabilities ``P`` and 0/1 labels ``Y`` (``(n, C)``); unknown labels (``mask`` 0) are skipped."""
        if self.method not in _METHODS:
            raise CardioScreenError(f"unknown calibration method {self.method!r}; choose one of {', '.join(_METHODS)}")
        P, Y = np.asarray(P, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        known = _known(mask, P.shape)
        self.maps_: list[dict[str, Any]] = []
        for j in range(P.shape[1]):
            p, y = P[known[:, j], j], Y[known[:, j], j]
            pos = int((y > 0.5).sum())
            if min(pos, len(y) - pos) < self.min_per_class:
                self.maps_.append({"kind": "identity"})
            else:
                self.maps_.append(_METHODS[self.method](p, (y > 0.5).astype(np.float64)))
        return self

    def transform(self, P: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, same shape as ``P`` (``(n, C)`` or ``(C,)``)."""
        P = np.asarray(P, dtype=np.float64)
        flat = P.reshape(-1, P.shape[-1])
        if flat.shape[1] != len(self.maps_):
            raise CardioScreenError(f"{flat.shape[1]} classes given to a calibrator of {len(self.maps_)}")
        out = np.column_stack([_APPLY[c["kind"]](c, flat[:, j]) for j, c in enumerate(self.maps_)])
        return out.reshape(P.shape)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "min_per_class": self.min_per_class, "maps": self.maps_}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PerClassCalibrator:
        calibrator = cls(data["method"], data["min_per_class"])
        calibrator.maps_ = list(data["maps"])
        return calibrator


def _best_f1(y: np.ndarray, p: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    pred = p[None, :] >= candidates[:, None]
    tp = (pred & (y[None, :] > 0.5)).sum(1)
    fp = (pred & (y[None, :] <= 0.5)).sum(1)
    fn = ((~pred) & (y[None, :] > 0.5)).sum(1)
    return np.asarray(2 * tp / np.maximum(2 * tp + fp + fn, 1))


def _youden(y: np.ndarray, p: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    pred = p[None, :] >= candidates[:, None]
    pos, neg = y > 0.5, y <= 0.5
    sens = (pred & pos[None, :]).sum(1) / max(int(pos.sum()), 1)
    spec = ((~pred) & neg[None, :]).sum(1) / max(int(neg.sum()), 1)
    return np.asarray(sens + spec - 1)


_THRESHOLD_OBJECTIVES: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]] = {
    "f1": _best_f1,
    "youden": _youden,
}


def fit_thresholds(
    Y: np.ndarray, P: np.ndarray, mask: np.ndarray | None = None, objective: str = "f1", default: float = 0.5
) -> np.ndarray:
    """Per-class thresholds ``(C,)`` maximising ``objective`` ("f1" or "youden") on the given (validation) data.

    Candidates are the observed probabilities of each class; a class without both a known positive and a known
    negative gets ``default``. Ties go to the lowest candidate.
    """
    if objective not in _THRESHOLD_OBJECTIVES:
        raise CardioScreenError(f"unknown threshold objective {objective!r}; choose one of "
                                f"{', '.join(_THRESHOLD_OBJECTIVES)}")
    Y, P = np.asarray(Y, dtype=np.float64), np.asarray(P, dtype=np.float64)
    known = _known(mask, P.shape)
    out = np.full(P.shape[1], default, dtype=np.float64)
    for j in range(P.shape[1]):
        y, p = Y[known[:, j], j], P[known[:, j], j]
        if 0 < (y > 0.5).sum() < len(y):
            candidates = np.unique(p)
            out[j] = float(candidates[int(np.argmax(_THRESHOLD_OBJECTIVES[objective](y, p, candidates)))])
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """Binary ECE: bin ``p`` into ``n_bins`` equal-width bins, weight ``|mean(y) - mean(p)|`` by bin size."""
    y, p = np.asarray(y, dtype=np.float64).ravel(), np.asarray(p, dtype=np.float64).ravel()
    if len(y) == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        inside = bins == b
        total += inside.sum() * abs(y[inside].mean() - p[inside].mean())
    return float(total / len(y))


def macro_ece(Y: np.ndarray, P: np.ndarray, mask: np.ndarray | None = None, n_bins: int = 10) -> float:
    """Mean over classes with at least one known positive of the per-class ECE (known labels only)."""
    Y, P = np.asarray(Y), np.asarray(P)
    known = _known(mask, P.shape)
    values = [
        expected_calibration_error(Y[known[:, j], j], P[known[:, j], j], n_bins)
        for j in range(P.shape[1])
        if (Y[known[:, j], j] > 0.5).any()
    ]
    return float(np.mean(values)) if values else float("nan")
