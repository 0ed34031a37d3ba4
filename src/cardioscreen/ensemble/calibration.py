"""Per-class probability calibration by strictly increasing maps (Platt or beta), and the reported range.

A calibration map must keep the network's ranking: isotonic regression (the earlier method) is a step function
whose flat ends put 43-49 % of the shipped model's validation probabilities at exactly 0 or 1 and cost up to 0.08
AUC. Both maps here are logistic regressions on increasing functions of ``p`` with non-negative coefficients held
away from zero, so they are strictly increasing and leave every AUC unchanged:

* ``platt``: ``sigmoid(a * logit(p) + b)``, ``a > 0`` (Platt 1999; with ``b = 0`` it is temperature scaling);
* ``beta``: ``sigmoid(a * ln(p) - b * ln(1 - p) + c)``, ``a, b > 0`` (Kull et al. 2017), which also bends the
  two tails differently.

They are fitted with Platt's smoothed targets (``(N+ + 1) / (N+ + 2)`` for positives, ``1 / (N- + 2)`` for
negatives), so that a class with a handful of positives or a perfectly separated one gets a finite slope. Every
reported probability is finally clipped to :data:`REPORTED_RANGE`, so no finding is ever shown as 0.0 % or 100 %.

Everything here is fitted on the data it is given, which must be validation data; a fitted
:class:`PerClassCalibrator` is a plain JSON-able description (``to_dict`` / ``from_dict``), so a bundle stores
it without pickles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import minimize

from cardioscreen.errors import CardioScreenError

EPS = 1e-12
"""Probabilities are clipped to ``[EPS, 1 - EPS]`` before taking logarithms (float32 outputs reach 1.0 exactly)."""
REPORTED_RANGE = (0.001, 0.999)
"""Every reported probability lies in this range: 0.1 % and 99.9 % at one decimal, never 0.0 % or 100 %."""
MIN_SLOPE = 1e-3
"""Lower bound of every coefficient of a map: it keeps the map strictly increasing."""


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.asarray(np.log(p) - np.log1p(-p))


def clip_reported(p: np.ndarray) -> np.ndarray:
    """``p`` clipped to :data:`REPORTED_RANGE` (the probabilities users are shown)."""
    return np.clip(np.asarray(p, dtype=np.float64), *REPORTED_RANGE)


def _platt_inputs(p: np.ndarray) -> np.ndarray:
    return _logit(p)[:, None]


def _beta_inputs(p: np.ndarray) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return np.column_stack([np.log(q), -np.log1p(-q)])


_INPUTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {"platt": _platt_inputs, "beta": _beta_inputs}
"""Per method, the increasing features of ``p`` whose non-negative combination is the map's logit."""
CALIBRATIONS = tuple(_INPUTS)
"""Names of the calibration maps."""


def _fit_logistic(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Coefficients ``(k + 1,)`` (slopes, then intercept) of a logistic fit of Platt's smoothed targets of ``y`` on
    the features ``z`` ``(n, k)``, every slope at least :data:`MIN_SLOPE`."""
    pos = float(y.sum())
    target = np.where(y > 0.5, (pos + 1) / (pos + 2), 1 / (len(y) - pos + 2))
    design = np.column_stack([z, np.ones(len(z))])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = design @ w
        # cross-entropy with soft targets: log(1 + e^s) - t * s, and its gradient
        value = float(np.sum(np.logaddexp(0.0, s) - target * s))
        return value, design.T @ (1.0 / (1.0 + np.exp(-s)) - target)

    start = np.r_[np.ones(z.shape[1]), 0.0]
    bounds = [(MIN_SLOPE, None)] * z.shape[1] + [(None, None)]
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    return np.asarray(result.x, dtype=np.float64)


def _apply_columns(kind: str, coefs: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The maps of ``kind`` with coefficients ``coefs`` ``(C, k + 1)`` on the columns of ``p`` ``(n, C)``, each
    column its own map. A one-input map (Platt) is evaluated on all columns at once: product, then intercept, as
    its matrix product gives them; with more inputs the products are summed by that matrix product, column by
    column (summing them otherwise can change the last bit)."""
    if coefs.shape[1] == 2:
        s = _INPUTS[kind](p.ravel()).reshape(p.shape) * coefs[:, 0] + coefs[:, 1]
    else:
        s = np.column_stack([_INPUTS[kind](p[:, j]) @ c[:-1] + c[-1] for j, c in enumerate(coefs)])
    return np.asarray(1.0 / (1.0 + np.exp(-s)))


class PerClassCalibrator:
    """One strictly increasing calibration map per class, fitted on validation probabilities.

    Parameters
    ----------
    method : {"platt", "beta"}
        The map (see the module doc).
    min_per_class : int
        A class needs at least this many known positives and negatives; otherwise it keeps the identity map
        (which is strictly increasing too).

    Attributes
    ----------
    maps_ : list of dict
        Per class ``{"kind": "platt" | "beta", "coef": [slopes..., intercept]}`` or ``{"kind": "identity"}``.
    """

    def __init__(self, method: str = "platt", min_per_class: int = 3) -> None:
        self.method = method
        self.min_per_class = min_per_class

    def fit(self, P: np.ndarray, Y: np.ndarray, mask: np.ndarray | None = None) -> PerClassCalibrator:
        """Fit on probabilities ``P`` and 0/1 labels ``Y`` (``(n, C)``); unknown labels (``mask`` 0) are skipped."""
        if self.method not in _INPUTS:
            raise CardioScreenError(f"unknown calibration method {self.method!r}; choose one of {', '.join(_INPUTS)}")
        P, Y = np.asarray(P, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        known = np.ones(P.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        self.maps_: list[dict[str, Any]] = []
        for j in range(P.shape[1]):
            p, y = P[known[:, j], j], (Y[known[:, j], j] > 0.5).astype(np.float64)
            if min(int(y.sum()), int(len(y) - y.sum())) < self.min_per_class:
                self.maps_.append({"kind": "identity"})
            else:
                coef = _fit_logistic(_INPUTS[self.method](p), y)
                self.maps_.append({"kind": self.method, "coef": coef.tolist()})
        return self

    def transform(self, P: np.ndarray) -> np.ndarray:
        """Calibrated probabilities clipped to :data:`REPORTED_RANGE` (what is reported), same shape as ``P``
        (``(n, C)`` or ``(C,)``)."""
        P = np.asarray(P, dtype=np.float64)
        flat = P.reshape(-1, P.shape[-1])
        if flat.shape[1] != len(self.maps_):
            raise CardioScreenError(f"{flat.shape[1]} classes given to a calibrator of {len(self.maps_)}")
        out = flat.copy()
        for kind, (columns, coefs) in self._by_kind().items():
            out[:, columns] = _apply_columns(kind, coefs, flat[:, columns])
        return clip_reported(out).reshape(P.shape)

    def _by_kind(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per map kind but the identity: its classes' columns and their coefficients ``(classes, k + 1)``."""
        kinds = {c["kind"] for c in self.maps_} - {"identity"}
        columns = {kind: np.array([j for j, c in enumerate(self.maps_) if c["kind"] == kind]) for kind in kinds}
        return {kind: (cols, np.array([self.maps_[j]["coef"] for j in cols], dtype=np.float64))
                for kind, cols in columns.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "min_per_class": self.min_per_class, "maps": self.maps_}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PerClassCalibrator:
        """The calibrator :meth:`to_dict` described; a map of an unknown kind (e.g. the isotonic maps of older
        bundles, which were not order-preserving) is refused by name: re-run ``train-ensemble``."""
        calibrator = cls(data["method"], data["min_per_class"])
        kinds = {c["kind"] for c in data["maps"]} - {"identity", *_INPUTS}
        if kinds:
            raise CardioScreenError(f"calibration maps of kind {sorted(kinds)} are not supported any more; "
                                    "re-fit the bundle's ensemble with `cardioscreen train-ensemble`")
        calibrator.maps_ = list(data["maps"])
        return calibrator
