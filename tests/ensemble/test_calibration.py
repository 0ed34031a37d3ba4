"""Calibration maps on a real, deliberately miscalibrated scorer: strictly increasing, AUC kept, ECE reduced."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from cardioscreen.ensemble.calibration import CALIBRATIONS, REPORTED_RANGE, PerClassCalibrator
from cardioscreen.errors import CardioScreenError
from cardioscreen.training.metrics import class_aucs, macro_ece


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


@pytest.mark.parametrize("method", CALIBRATIONS)
class TestMaps:
    def test_reduces_ece_on_held_out_half(self, scored: dict[str, np.ndarray], method: str) -> None:
        P, Y = scored["P"], scored["Y"]
        fit, held = np.arange(len(P)) % 2 == 0, np.arange(len(P)) % 2 == 1
        calibrator = PerClassCalibrator(method)
        assert calibrator.fit(P[fit], Y[fit]) is calibrator
        before = macro_ece(Y[held], P[held])
        after = macro_ece(Y[held], calibrator.transform(P[held]))
        assert after < before / 2  # measured 0.36 -> 0.05 (platt) and 0.04 (beta)

    def test_strictly_increasing_within_the_reported_range(self, scored: dict[str, np.ndarray], method: str
                                                           ) -> None:
        calibrator = PerClassCalibrator(method).fit(scored["P"], scored["Y"])
        grid = np.tile(np.linspace(1e-4, 1 - 1e-4, 2001)[:, None], (1, 5))
        out = calibrator.transform(grid)
        low, high = REPORTED_RANGE
        assert out.min() >= low and out.max() <= high
        inside = (out[1:] > low) & (out[:-1] < high)  # both ends of a step off the clip
        assert inside.sum(axis=0).min() > 1000
        assert (np.diff(out, axis=0)[inside] > 0).all()

    def test_keeps_every_auc(self, scored: dict[str, np.ndarray], method: str) -> None:
        P, Y = scored["P"], scored["Y"]
        calibrated = PerClassCalibrator(method).fit(P, Y).transform(P)
        np.testing.assert_allclose(class_aucs(Y, calibrated), class_aucs(Y, P), atol=5e-3)
        # and exactly where no probability reaches the reported clip
        away = ((calibrated > REPORTED_RANGE[0]) & (calibrated < REPORTED_RANGE[1])).all(axis=0)
        assert away.any()
        np.testing.assert_allclose(class_aucs(Y, calibrated)[away], class_aucs(Y, P)[away], atol=1e-12)

    def test_roundtrip(self, scored: dict[str, np.ndarray], method: str) -> None:
        calibrator = PerClassCalibrator(method).fit(scored["P"], scored["Y"])
        again = PerClassCalibrator.from_dict(calibrator.to_dict())
        np.testing.assert_array_equal(again.transform(scored["P"]), calibrator.transform(scored["P"]))

    def test_all_classes_at_once_equal_each_class_alone(self, scored: dict[str, np.ndarray], method: str) -> None:
        """transform evaluates every class's map in one pass: bit for bit each class's map on its own column (a
        record's row, or all rows), identity maps included."""
        calibrator = PerClassCalibrator(method).fit(scored["P"], scored["Y"])
        calibrator.maps_[1] = {"kind": "identity"}
        P = scored["P"]
        for j, c in enumerate(calibrator.maps_):
            alone = PerClassCalibrator.from_dict({**calibrator.to_dict(), "maps": [c]})
            np.testing.assert_array_equal(calibrator.transform(P)[:, j], alone.transform(P[:, j : j + 1])[:, 0])
            np.testing.assert_array_equal(calibrator.transform(P[3])[j], alone.transform(P[3, j : j + 1])[0])


class TestEdges:
    def test_class_without_positives_keeps_identity_clipped(self) -> None:
        P = np.array([0.0, 0.0004, 0.3, 0.9, 1.0])[:, None]
        calibrator = PerClassCalibrator().fit(P, np.zeros((5, 1)))
        assert calibrator.maps_ == [{"kind": "identity"}]
        np.testing.assert_array_equal(calibrator.transform(P)[:, 0], [0.001, 0.001, 0.3, 0.9, 0.999])

    def test_perfectly_separated_class_gets_a_finite_map(self, scored: dict[str, np.ndarray]) -> None:
        y = scored["Y"][:, :1]
        p = np.where(y > 0.5, 0.9, 0.1) + np.linspace(0, 0.01, len(y))[:, None]
        out = PerClassCalibrator().fit(p, y).transform(p)
        assert np.isfinite(out).all() and out[y > 0.5].min() > out[y <= 0.5].max()

    def test_unknown_method(self) -> None:
        with pytest.raises(CardioScreenError, match="platt"):
            PerClassCalibrator("isotonic").fit(np.zeros((4, 1)), np.zeros((4, 1)))

    def test_old_isotonic_maps_are_refused_by_name(self) -> None:
        old = {"method": "isotonic", "min_per_class": 3, "maps": [{"kind": "isotonic", "x": [0, 1], "y": [0, 1]}]}
        with pytest.raises(CardioScreenError, match="train-ensemble"):
            PerClassCalibrator.from_dict(old)
