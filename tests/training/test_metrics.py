"""Metrics against scikit-learn and hand computations; bootstrap intervals; the class-prior baseline."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from cardioscreen.training.metrics import (
    binary_auc,
    bootstrap_ci,
    class_aucs,
    evaluable,
    evaluate_scores,
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
