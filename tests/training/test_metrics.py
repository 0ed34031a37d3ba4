"""Metrics against scikit-learn and hand computations; bootstrap intervals; the class-prior baseline."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from cardioscreen.training.metrics import (
    binary_auc,
    bootstrap_ci,
    class_aucs,
    class_eces,
    class_figures,
    evaluable,
    evaluate_scores,
    expected_calibration_error,
    macro_ece,
    per_class_ci,
    prior_baseline,
    sensitivity_specificity,
    tune_thresholds,
)


@pytest.fixture()
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = (rng.random((200, 4)) < [0.1, 0.3, 0.5, 0.05]).astype(np.float32)
    scores = np.round(np.clip(y * 0.3 + rng.random(y.shape), 0, 1), 1)  # rounded: many ties
    return y, scores


class TestAuc:
    def test_matches_sklearn_with_ties(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        y, s = data
        for j in range(y.shape[1]):
            assert binary_auc(y[:, j], s[:, j]) == pytest.approx(roc_auc_score(y[:, j], s[:, j]))

    def test_mask_and_evaluable(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        y, s = data
        mask = np.ones_like(y, dtype=bool)
        mask[:100, 1] = False
        aucs = class_aucs(y, s, mask)
        assert aucs[1] == pytest.approx(roc_auc_score(y[100:, 1], s[100:, 1]))
        y2 = y.copy()
        y2[:, 3] = 0
        assert evaluable(y2).tolist() == [True, True, True, False]
        assert np.isnan(class_aucs(y2, s)[3])


class TestThresholds:
    def test_tuned_threshold_maximises_f1(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        y, s = data
        thr = tune_thresholds(y, s)
        for j in range(y.shape[1]):
            best = max(f1_score(y[:, j], s[:, j] >= t) for t in np.unique(s[:, j]))
            assert f1_score(y[:, j], s[:, j] >= thr[j]) == pytest.approx(best)

    def test_sensitivity_specificity_by_hand(self) -> None:
        y = np.array([[1], [1], [0], [0], [0]], dtype=float)
        s = np.array([[0.9], [0.2], [0.8], [0.1], [0.3]])
        sens, spec = sensitivity_specificity(y, s, np.array([0.5]))
        assert sens[0] == pytest.approx(0.5) and spec[0] == pytest.approx(2 / 3)


class TestBootstrap:
    def test_interval_contains_estimate(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        y, s = data
        out = evaluate_scores(y, s, ["a", "b", "c", "d"], np.full(4, 0.5), n_boot=300)
        low, high = out["macro_auc_ci"]
        assert low < out["macro_auc"] < high
        assert set(out) >= {"macro_auc", "macro_auc_ci", "per_class_auc", "macro_f1", "n_records"}
        assert out["n_records"] == 200

    def test_wider_at_higher_level(self) -> None:
        values = np.random.default_rng(0).normal(size=500)

        def mean_of(rows: np.ndarray) -> float:
            return float(values[rows].mean())

        narrow = bootstrap_ci(mean_of, 500, n_boot=400, level=0.5)
        wide = bootstrap_ci(mean_of, 500, n_boot=400, level=0.95)
        assert wide[0] < narrow[0] < narrow[1] < wide[1]

    def test_prior_baseline_is_chance(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        y, _ = data
        out = prior_baseline(y, None, y, ["a", "b", "c", "d"], n_boot=50)
        assert out["macro_auc"] == pytest.approx(0.5)
        prevalence = y.mean(axis=0)
        assert out["macro_f1"] == pytest.approx(np.mean(2 * prevalence / (1 + prevalence)))


class TestECE:
    def test_hand_computation(self) -> None:
        y = np.array([0, 1, 1, 0])
        p = np.array([0.05, 0.15, 0.95, 0.85])
        assert expected_calibration_error(y, p, n_bins=10) == pytest.approx((0.05 + 0.85 + 0.05 + 0.85) / 4)

    def test_perfectly_calibrated_bins(self) -> None:
        y = np.array([0, 0, 0, 1, 1, 1, 1, 0])
        p = np.array([0.25, 0.25, 0.25, 0.25, 0.75, 0.75, 0.75, 0.75])
        assert expected_calibration_error(y, p) == pytest.approx(0.0)

    def test_per_class_and_macro(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        y, s = data
        y = y.copy()
        y[:, 3] = 0
        values = class_eces(y, s)
        assert np.isnan(values[3])
        for j in range(3):
            assert values[j] == pytest.approx(expected_calibration_error(y[:, j], s[:, j]))
        assert macro_ece(y, s) == pytest.approx(values[:3].mean())


class TestPerClassFigures:
    def test_intervals_per_class(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        y, s = data
        ci = per_class_ci(class_aucs, y, s, n_boot=200)
        aucs = class_aucs(y, s)
        assert ci.shape == (4, 2) and ((ci[:, 0] <= aucs) & (aucs <= ci[:, 1])).all()
        # the rare class (5 % positives) is the least certain
        assert np.argmax(ci[:, 1] - ci[:, 0]) == 3
        for j in range(4):
            single = bootstrap_ci(lambda r, j=j: binary_auc(y[r, j], s[r, j]), len(y), n_boot=200)
            np.testing.assert_allclose(ci[j], single)

    def test_class_figures(self, data: tuple[np.ndarray, np.ndarray]) -> None:
        y, s = data
        thresholds = np.array([0.5, 0.6, 0.7, np.inf])
        figures = class_figures(y, s, thresholds, n_boot=100)
        sens, spec = sensitivity_specificity(y, s, thresholds)
        np.testing.assert_array_equal(figures["positives"], y.sum(axis=0))
        np.testing.assert_allclose(figures["sensitivity"], sens)
        np.testing.assert_allclose(figures["specificity"], spec)
        assert figures["sensitivity"][3] == 0 and figures["specificity"][3] == 1  # never flagged
        np.testing.assert_allclose(figures["auc"], class_aucs(y, s))
        np.testing.assert_allclose(figures["ece"], class_eces(y, s))
        for key in ("auc", "ece", "sensitivity", "specificity"):
            assert figures[f"{key}_ci"].shape == (4, 2)
