"""Which classes are assessed: training positives and the validation AUC interval, on real ptbxl-z100 scores."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from cardioscreen.ensemble.assessment import (
    MIN_TRAIN_POSITIVES,
    ClassAssessment,
    assess_classes,
    manifest_train_positives,
    training_positives,
)
from cardioscreen.models.bundle import Label

LABELS = tuple(Label(code, "superdiagnostic") for code in ("NORM", "MI", "STTC", "CD", "HYP"))


@pytest.fixture(scope="module")
def scored(z100_small: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Validation probabilities of per-class logistic regressions (ptbxl-z100, 178 validation records)."""
    X, Y, train = z100_small["X"], z100_small["Y"], z100_small["train"]
    P = np.column_stack([
        LogisticRegression(max_iter=2000).fit(X[train], Y[train, j]).predict_proba(X[~train])[:, 1]
        for j in range(Y.shape[1])
    ])
    return {"P": P, "Y": Y[~train], "Y_train": Y[train]}


class TestAssessment:
    def test_reasons(self, scored: dict[str, np.ndarray]) -> None:
        P, Y = scored["P"].copy(), scored["Y"]
        mask = np.ones_like(Y, dtype=bool)
        P[:, 3] = P[::-1, 3]  # CD scored by another record's CD score: no ranking at all
        positives = np.array([300, 150, 120, MIN_TRAIN_POSITIVES, MIN_TRAIN_POSITIVES - 1])
        result = {c.code: c for c in assess_classes(LABELS, positives, Y, P, mask, n_boot=300)}
        assert result["NORM"].assessed and result["NORM"].val_auc > 0.75 and result["NORM"].reason == ""
        assert result["NORM"].val_positives == int(Y[:, 0].sum())
        assert not result["CD"].assessed and result["CD"].val_auc_ci[0] < 0.6
        assert "reaches below 0.6" in result["CD"].reason
        assert not result["HYP"].assessed and result["HYP"].reason.startswith(f"{MIN_TRAIN_POSITIVES - 1} training")
        low, high = result["MI"].val_auc_ci
        assert low <= result["MI"].val_auc <= high

    def test_no_validation_positives(self, scored: dict[str, np.ndarray]) -> None:
        Y = scored["Y"].copy()
        Y[:, 1] = 0
        result = assess_classes(LABELS, np.full(5, 100), Y, scored["P"], np.ones_like(Y, dtype=bool), n_boot=50)
        assert not result[1].assessed and result[1].val_auc is None and "no validation positives" in result[1].reason

    def test_roundtrip(self, scored: dict[str, np.ndarray]) -> None:
        Y = scored["Y"]
        result = assess_classes(LABELS, np.full(5, 100), Y, scored["P"], np.ones_like(Y, dtype=bool), n_boot=50)
        for c in result:
            assert ClassAssessment.from_dict(c.to_dict()) == c and c.to_dict()["assessed"] == c.assessed

    def test_training_positives_take_the_tighter_bound(self, scored: dict[str, np.ndarray]) -> None:
        Y = scored["Y_train"]
        mask = np.ones_like(Y, dtype=bool)
        counted = Y.sum(axis=0).astype(int)
        np.testing.assert_array_equal(training_positives({}, Y, mask), counted)
        # a manifest that says the network saw a tenth of these records (prevalence x records)
        manifest = {"training": {"train_prevalence": list(Y.mean(axis=0)), "n_records": {"train": len(Y) // 10}}}
        stated = manifest_train_positives(manifest)
        assert stated is not None
        np.testing.assert_array_equal(training_positives(manifest, Y, mask), np.minimum(stated, counted))
        assert (stated < counted).all()
        given = {"training": {"train_positives": [0, 1, 2, 3, 4]}}
        np.testing.assert_array_equal(training_positives(given, Y, mask), [0, 1, 2, 3, 4])
