"""Thresholds on real validation scores: best objective among cut points that keep the sensitivity floor."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from cardioscreen.ensemble.thresholds import fit_thresholds
from cardioscreen.errors import CardioScreenError


@pytest.fixture(scope="module")
def scored(z100_small: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Validation probabilities of per-class logistic regressions on simple features (ptbxl-z100)."""
    X, Y, train = z100_small["X"], z100_small["Y"], z100_small["train"]
    P = np.column_stack([
        LogisticRegression(max_iter=2000).fit(X[train], Y[train, j]).predict_proba(X[~train])[:, 1]
        for j in range(Y.shape[1])
    ])
    return {"P": P, "Y": Y[~train]}


def _f1(y: np.ndarray, flag: np.ndarray) -> float:
    return 2 * (flag & (y > 0.5)).sum() / max(flag.sum() + (y > 0.5).sum(), 1)


class TestThresholds:
    @pytest.mark.parametrize("floor", [0.0, 0.5, 0.8])
    def test_best_f1_among_flags_that_keep_the_floor(self, scored: dict[str, np.ndarray], floor: float) -> None:
        P, Y = scored["P"], scored["Y"]
        thresholds = fit_thresholds(Y, P, min_sensitivity=floor)
        for j in range(Y.shape[1]):
            y, p = Y[:, j], P[:, j]
            flags = [p >= v for v in np.unique(p)]
            allowed = [f for f in flags if f[y > 0.5].mean() >= floor]
            chosen = p >= thresholds[j]
            assert chosen[y > 0.5].mean() >= floor
            assert _f1(y, chosen) == pytest.approx(max(_f1(y, f) for f in allowed))
            assert thresholds[j] not in p[p > p.min()]  # half-way between two scores, not on one

    def test_floor_changes_the_rule(self, scored: dict[str, np.ndarray]) -> None:
        P, Y = scored["P"], scored["Y"]
        free, floored = fit_thresholds(Y, P, min_sensitivity=0.0), fit_thresholds(Y, P, min_sensitivity=0.9)
        assert (floored <= free).all() and (floored < free).any()

    def test_mask_and_classes_without_positives(self, scored: dict[str, np.ndarray]) -> None:
        P, Y = scored["P"], scored["Y"].copy()
        mask = np.ones_like(Y, dtype=bool)
        mask[::3] = False
        changed = P.copy()
        changed[::3] = 1 - changed[::3]  # only rows whose labels are unknown change
        np.testing.assert_array_equal(fit_thresholds(Y, changed, mask), fit_thresholds(Y, P, mask))
        Y[:, 0] = 0
        assert fit_thresholds(Y, P, default=0.5)[0] == 0.5

    def test_youden(self, scored: dict[str, np.ndarray]) -> None:
        P, Y = scored["P"], scored["Y"]
        t = fit_thresholds(Y, P, objective="youden", min_sensitivity=0.0)
        y, p = Y[:, 0], P[:, 0]
        best = max((p >= c)[y == 1].mean() - (p >= c)[y == 0].mean() for c in np.unique(p))
        assert (p >= t[0])[y == 1].mean() - (p >= t[0])[y == 0].mean() == pytest.approx(best)

    def test_unknown_objective(self) -> None:
        with pytest.raises(CardioScreenError, match="youden"):
            fit_thresholds(np.zeros((3, 1)), np.zeros((3, 1)), objective="accuracy")
