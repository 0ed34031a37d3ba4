"""CatBoost models as NumPy tree arrays: the same probabilities as CatBoost on real features, NaNs included."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from catboost import CatBoostClassifier

from cardioscreen.ensemble.trees import ForestSet, ObliviousForest
from cardioscreen.errors import CardioScreenError


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

    def test_trees_of_different_depths(self) -> None:
        """CatBoost stops a tree where no split helps (here: two binary inputs allow at most two levels, and some
        trees use one); the shallower trees are padded and give CatBoost's probabilities."""
        rng = np.random.default_rng(0)
        X = rng.integers(0, 2, (300, 2)).astype(float)
        X[::7, 1] = np.nan
        y = (X[:, 0] + np.nan_to_num(X[:, 1]) + rng.random(300) > 1.5).astype(int)
        model = CatBoostClassifier(iterations=30, depth=4, random_seed=0, verbose=False, allow_writing_files=False,
                                   thread_count=1).fit(X, y)
        forest = ObliviousForest.from_catboost(model)
        assert np.isinf(forest.borders).any() and not np.isinf(forest.borders).all()  # some trees were padded
        np.testing.assert_allclose(forest.predict_proba(X), model.predict_proba(X)[:, 1], rtol=0, atol=1e-12)


class TestForestSet:
    def test_equals_each_catboost_model_on_its_columns(self, z100_small: dict[str, np.ndarray]) -> None:
        """Three CatBoost models of depths 2-4, each on its own columns of one input: evaluated in one pass, each
        gives its own probabilities."""
        X, Y, train = z100_small["X"].copy(), z100_small["Y"], z100_small["train"]
        X[::7, :4] = np.nan
        columns = [np.array([0, 3, 5, 8]), np.array([1, 2, 9]), np.arange(10, 20)]
        models = [CatBoostClassifier(iterations=20 + 10 * i, depth=depth, random_seed=i, verbose=False,
                                     allow_writing_files=False, thread_count=1).fit(X[train][:, cols], Y[train, i])
                  for i, (cols, depth) in enumerate(zip(columns, (2, 4, 3), strict=True))]
        joined = ForestSet.of([ObliviousForest.from_catboost(m) for m in models], columns)
        expected = np.stack([m.predict_proba(X[:, cols])[:, 1] for m, cols in zip(models, columns, strict=True)],
                            axis=1)
        np.testing.assert_allclose(joined.predict_proba(X), expected, rtol=0, atol=1e-12)

    def test_needs_a_column_map_per_forest(self, model: CatBoostClassifier) -> None:
        with pytest.raises(CardioScreenError, match="one column map per forest"):
            ForestSet.of([ObliviousForest.from_catboost(model)], [])
