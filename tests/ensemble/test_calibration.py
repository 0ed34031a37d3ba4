"""Calibration, thresholds and ECE on a real, deliberately miscalibrated scorer."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from cardioscreen.ensemble.calibration import (
    PerClassCalibrator,
    expected_calibration_error,
    fit_thresholds,
    macro_ece,
)
from cardioscreen.errors import CardioScreenError


@pytest.fixture(scope="module")
def scored(z100_small: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Validation-record probabilities of a per-class logistic regression fitted on training records, made
    overconfident (``p ** 0.25`` pushes every score up)."""
    X, Y, train = z100_small["X"], z100_small["Y"], z100_small["train"]
    P = np.column_stack([
        LogisticRegression(max_iter=2000).fit(X[train], Y[train, j]).predict_proba(X[~train])[:, 1]
        for j in range(Y.shape[1])
    ])
    return {"P": P**0.25, "Y": Y[~train]}


class TestCalibration:
    @pytest.mark.parametrize("method", ["isotonic", "platt"])
    def test_reduces_ece_on_held_out_half(self, scored: dict[str, np.ndarray], method: str) -> None:
        P, Y = scored["P"], scored["Y"]
        fit, held = np.arange(len(P)) % 2 == 0, np.arange(len(P)) % 2 == 1
        calibrator = PerClassCalibrator(method)
        assert calibrator.fit(P[fit], Y[fit]) is calibrator
        before = macro_ece(Y[held], P[held])
        after = macro_ece(Y[held], calibrator.transform(P[held]))
        assert after < before / 2

    def test_monotone_and_roundtrip(self, scored: dict[str, np.ndarray]) -> None:
        calibrator = PerClassCalibrator("isotonic").fit(scored["P"], scored["Y"])
        grid = np.tile(np.linspace(0, 1, 101)[:, None], (1, 5))
        out = calibrator.transform(grid)
        assert (np.diff(out, axis=0) >= -1e-12).all() and out.min() >= 0 and out.max() <= 1
        again = PerClassCalibrator.from_dict(calibrator.to_dict())
        np.testing.assert_array_equal(again.transform(scored["P"]), calibrator.transform(scored["P"]))

    def test_class_without_positives_keeps_identity(self) -> None:
        P = np.linspace(0.1, 0.9, 20)[:, None]
        calibrator = PerClassCalibrator().fit(P, np.zeros((20, 1)))
        assert calibrator.maps_ == [{"kind": "identity"}]
        np.testing.assert_array_equal(calibrator.transform(P), P)

    def test_unknown_method(self) -> None:
        with pytest.raises(CardioScreenError, match="isotonic"):
            PerClassCalibrator("beta").fit(np.zeros((4, 1)), np.zeros((4, 1)))


class TestThresholds:
    def test_maximise_f1_on_given_data_only(self, scored: dict[str, np.ndarray]) -> None:
        P, Y = scored["P"], scored["Y"]
        mask = np.ones_like(Y, dtype=bool)
        mask[::3] = False
        thresholds = fit_thresholds(Y, P, mask)
        for j in range(Y.shape[1]):
            y, p = Y[mask[:, j], j], P[mask[:, j], j]
            f1 = [2 * ((p >= t) & (y == 1)).sum() / max((p >= t).sum() + (y == 1).sum(), 1) for t in np.unique(p)]
            assert thresholds[j] in p
            assert max(f1) == pytest.approx(f1[list(np.unique(p)).index(thresholds[j])])
        changed = P.copy()
        changed[::3] = 1 - changed[::3]
        np.testing.assert_array_equal(fit_thresholds(Y, changed, mask), thresholds)

    def test_youden(self, scored: dict[str, np.ndarray]) -> None:
        P, Y = scored["P"], scored["Y"]
        t = fit_thresholds(Y, P, objective="youden")
        y, p = Y[:, 0], P[:, 0]
        j_best = max((p >= c)[y == 1].mean() - (p >= c)[y == 0].mean() for c in np.unique(p))
        assert (p >= t[0])[y == 1].mean() - (p >= t[0])[y == 0].mean() == pytest.approx(j_best)


class TestECE:
    def test_hand_computation(self) -> None:
        y = np.array([0, 1, 1, 0])
        p = np.array([0.05, 0.15, 0.95, 0.85])
        assert expected_calibration_error(y, p, n_bins=10) == pytest.approx((0.05 + 0.85 + 0.05 + 0.85) / 4)

    def test_perfectly_calibrated_bins(self) -> None:
        y = np.array([0, 0, 0, 1, 1, 1, 1, 0])
        p = np.array([0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75])
        assert expected_calibration_error(y, p) == pytest.approx(0.0)
