"""CatBoost models as NumPy tree arrays: the same probabilities as CatBoost on real features, NaNs included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from catboost import CatBoostClassifier

from cardioscreen.ensemble.trees import ObliviousForest


@pytest.fixture(scope="module")
def model(z100_small: dict[str, np.ndarray]) -> CatBoostClassifier:
    X, Y, train = z100_small["X"].copy(), z100_small["Y"], z100_small["train"]
    X[::9, :6] = np.nan  # records without beats get NaN features
    return CatBoostClassifier(iterations=80, depth=4, random_seed=0, verbose=False, allow_writing_files=False,
                              thread_count=1).fit(X[train], Y[train, 1])


class TestObliviousForest:
    def test_equals_catboost(self, model: CatBoostClassifier, z100_small: dict[str, np.ndarray]) -> None:
        X = z100_small["X"][~z100_small["train"]].copy()
        X[::5, :6] = np.nan
        forest = ObliviousForest.from_catboost(model)
        assert forest.features.shape == (80, 4) and forest.leaves.shape == (80, 16)
        np.testing.assert_allclose(forest.predict_proba(X), model.predict_proba(X)[:, 1], rtol=0, atol=1e-12)

    def test_roundtrip(self, model: CatBoostClassifier, z100_small: dict[str, np.ndarray], tmp_path: Path) -> None:
        forest = ObliviousForest.from_catboost(model)
        np.savez(tmp_path / "f.npz", **forest.to_arrays("a_"))
        with np.load(tmp_path / "f.npz") as arrays:
            again = ObliviousForest.from_arrays(arrays, "a_")
        X = z100_small["X"][:30]
        np.testing.assert_array_equal(again.predict_proba(X), forest.predict_proba(X))
