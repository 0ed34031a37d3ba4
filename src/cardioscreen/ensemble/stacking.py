"""Stacking of the network's own probabilities with the boosting probabilities, and honest cross-fitting.

:class:`Stacker` fits, per class, a logistic regression on the logits of the base probabilities (network and
boosting). It is fitted on validation records (whose network outputs were not trained on);
:func:`cross_fit_predict` gives out-of-fold predictions there, so figures measured on the validation fold do not
reuse the records a stage was fitted on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from cardioscreen.ensemble.calibration import _logit


class Stacker:
    """Per-class logistic regression on the logits of several base probability matrices.

    Parameters
    ----------
    C : float
        Inverse L2 strength of the logistic regressions.
    min_per_class : int
        A class needs this many known positives and negatives; otherwise it averages the base probabilities.

    Attributes
    ----------
    coefs_ : np.ndarray
        ``(C, n_bases + 1)``: weights per base, then the intercept; NaN rows average the bases instead.
    """

    def __init__(self, C: float = 1.0, min_per_class: int = 3) -> None:
        self.C = C
        self.min_per_class = min_per_class

    def fit(self, bases: Sequence[np.ndarray], Y: np.ndarray, mask: np.ndarray | None = None) -> Stacker:
        """Fit on base probabilities (each ``(n, C)``) and 0/1 labels ``Y`` ``(n, C)``."""
        from sklearn.linear_model import LogisticRegression  # fitting only: predicting needs numpy alone

        Z = np.stack([_logit(np.asarray(b, dtype=np.float64)) for b in bases], axis=-1)
        Y = np.asarray(Y)
        known = np.ones(Y.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        self.coefs_ = np.full((Y.shape[1], len(bases) + 1), np.nan)
        for j in range(Y.shape[1]):
            y = (Y[known[:, j], j] > 0.5).astype(np.int64)
            if min(int(y.sum()), int(len(y) - y.sum())) >= self.min_per_class:
                lr = LogisticRegression(C=self.C).fit(Z[known[:, j], j], y)
                self.coefs_[j] = [*lr.coef_[0], lr.intercept_[0]]
        return self

    def predict_proba(self, bases: Sequence[np.ndarray]) -> np.ndarray:
        """Stacked probabilities ``(n, C)``."""
        probs = [np.asarray(b, dtype=np.float64) for b in bases]
        Z = np.stack([_logit(p) for p in probs], axis=-1)
        stacked = 1.0 / (1.0 + np.exp(-(np.einsum("ncb,cb->nc", Z, np.nan_to_num(self.coefs_[:, :-1]))
                                        + np.nan_to_num(self.coefs_[:, -1]))))
        fallback = np.isnan(self.coefs_[:, 0])
        stacked[:, fallback] = np.mean(probs, axis=0)[:, fallback]
        return stacked

    def to_dict(self) -> dict[str, Any]:
        coefs = [[None if np.isnan(v) else float(v) for v in row] for row in self.coefs_]
        return {"C": self.C, "min_per_class": self.min_per_class, "coefs": coefs}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stacker:
        stacker = cls(data["C"], data["min_per_class"])
        stacker.coefs_ = np.array(data["coefs"], dtype=np.float64)
        return stacker


class _Fitted(Protocol):
    def __call__(self, rows: np.ndarray) -> Callable[[np.ndarray], np.ndarray]: ...


def cross_fit_predict(fit_on: _Fitted, n: int, n_splits: int = 5, random_state: int = 0) -> np.ndarray:
    """Out-of-fold predictions: for each of ``n_splits`` folds of ``range(n)``, ``fit_on(train_rows)`` returns a
    predictor that is applied to the rows left out of its fit. Returns the stacked ``(n, ...)`` predictions."""
    from sklearn.model_selection import KFold

    parts = [(test, fit_on(train)(test))
             for train, test in KFold(n_splits, shuffle=True, random_state=random_state).split(np.arange(n))]
    out = np.empty((n, *parts[0][1].shape[1:]), dtype=np.float64)
    for test, pred in parts:
        out[test] = pred
    return out
