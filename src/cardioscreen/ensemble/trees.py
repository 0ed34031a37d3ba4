"""A fitted CatBoost model as plain arrays, evaluated with NumPy: no CatBoost at analysis time.

CatBoost grows *oblivious* trees: every level of a tree splits on the same ``feature > border`` test, so a tree of
depth ``D`` is ``D`` (feature, border) pairs and ``2**D`` leaf values, and a record's leaf is the binary number
its ``D`` test results spell (the first split is the lowest bit). The model's raw score is ``scale`` times the sum
of its trees' leaves plus ``bias``; the probability is its sigmoid. A NaN fails every test (CatBoost's default
``nan_mode="Min"``). One CatBoost call costs about 2.4 ms whatever its size (measured here), so the 110 models
of the shipped ensemble took 0.23 s per record; their arrays take well under a millisecond.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cardioscreen.errors import CardioScreenError

if TYPE_CHECKING:
    from catboost import CatBoostClassifier


@dataclass(frozen=True)
class ObliviousForest:
    """The trees of one binary CatBoost classifier.

    Attributes
    ----------
    features : np.ndarray
        ``(trees, depth)`` int: column of the model's input each level tests.
    borders : np.ndarray
        ``(trees, depth)`` float: the level goes right when the value is above its border.
    leaves : np.ndarray
        ``(trees, 2 ** depth)`` float: leaf values (raw score contributions).
    scale, bias : float
        Raw score = ``scale * sum of leaves + bias``.
    """

    features: np.ndarray
    borders: np.ndarray
    leaves: np.ndarray
    scale: float
    bias: float

    @classmethod
    def from_catboost(cls, model: CatBoostClassifier) -> ObliviousForest:
        """The arrays of a fitted CatBoost classifier on numeric features (read from its JSON export)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.json"
            model.save_model(str(path), format="json")
            description = json.loads(path.read_text())
        flat = [f["flat_feature_index"] for f in description["features_info"]["float_features"]]
        trees = description["oblivious_trees"]
        if any(split["split_type"] != "FloatFeature" for tree in trees for split in tree["splits"]):
            raise CardioScreenError("only CatBoost models on numeric features can be converted")
        # CatBoost stops a tree early where no split helps; such a tree is padded to the deepest one with levels
        # that never go right (border +inf, NaN too), so its leaf index and value stay the same.
        depth = max(len(tree["splits"]) for tree in trees)

        def padded(tree: dict[str, Any]) -> tuple[list[int], list[float], np.ndarray]:
            extra = depth - len(tree["splits"])
            features = [flat[s["float_feature_index"]] for s in tree["splits"]] + [0] * extra
            borders = [float(s["border"]) for s in tree["splits"]] + [np.inf] * extra
            return features, borders, np.tile(np.asarray(tree["leaf_values"], dtype=np.float64), 2**extra)

        levels = [padded(tree) for tree in trees]
        scale, bias = description["scale_and_bias"]
        return cls(
            features=np.array([f for f, _, _ in levels], dtype=np.int64),
            borders=np.array([b for _, b, _ in levels], dtype=np.float64),
            leaves=np.stack([leaf for _, _, leaf in levels]),
            scale=float(scale), bias=float(bias[0]),
        )

    @property
    def depth(self) -> int:
        return int(self.features.shape[1])

    def deepened(self, depth: int) -> ObliviousForest:
        """The same model as trees of ``depth`` levels (>= its own): extra levels never go right (border +inf,
        NaN too), so every leaf index and value stays the same."""
        extra = depth - self.depth
        if extra < 0:
            raise CardioScreenError(f"cannot make trees of depth {self.depth} shallower ({depth})")
        return ObliviousForest(
            features=np.pad(self.features, ((0, 0), (0, extra))),
            borders=np.pad(self.borders, ((0, 0), (0, extra)), constant_values=np.inf),
            leaves=np.tile(self.leaves, (1, 2**extra)), scale=self.scale, bias=self.bias)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Positive-class probabilities ``(n,)`` of the model's inputs ``X`` ``(n, k)``."""
        return ForestSet.of([self], [np.arange(np.asarray(X).shape[1])]).predict_proba(X)[:, 0]

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The forest as named arrays (for one ``.npz`` holding many forests)."""
        return {f"{prefix}features": self.features, f"{prefix}borders": self.borders,
                f"{prefix}leaves": self.leaves, f"{prefix}scale_bias": np.array([self.scale, self.bias])}

    @classmethod
    def from_arrays(cls, arrays: np.lib.npyio.NpzFile, prefix: str) -> ObliviousForest:
        """The forest :meth:`to_arrays` wrote under ``prefix``."""
        scale, bias = arrays[f"{prefix}scale_bias"]
        return cls(arrays[f"{prefix}features"], arrays[f"{prefix}borders"], arrays[f"{prefix}leaves"],
                   float(scale), float(bias))


@dataclass(frozen=True)
class ForestSet:
    """Many forests, each on its own columns of one input, evaluated together in one pass over all their trees
    (the shipped ensemble's 110 forests of 300 trees: one gather instead of 110 small ones).

    Attributes
    ----------
    features : np.ndarray
        ``(trees, depth)`` int: column of the shared input each level tests.
    borders, leaves : np.ndarray
        As in :class:`ObliviousForest`, every forest's trees one after another (deepened to one depth).
    starts : np.ndarray
        ``(forests,)`` int: index of each forest's first tree.
    scale, bias : np.ndarray
        ``(forests,)`` float.
    """

    features: np.ndarray
    borders: np.ndarray
    leaves: np.ndarray
    starts: np.ndarray
    scale: np.ndarray
    bias: np.ndarray

    @classmethod
    def of(cls, forests: list[ObliviousForest], columns: list[np.ndarray]) -> ForestSet:
        """The forests together; ``columns[i]`` maps forest ``i``'s input columns to the shared input's."""
        if not forests or len(forests) != len(columns):
            raise CardioScreenError(f"need one column map per forest, got {len(columns)} for {len(forests)}")
        depth = max(forest.depth for forest in forests)
        deep = [forest.deepened(depth) for forest in forests]
        return cls(
            features=np.concatenate([np.asarray(cols)[f.features] for f, cols in zip(deep, columns, strict=True)]),
            borders=np.concatenate([f.borders for f in deep]),
            leaves=np.concatenate([f.leaves for f in deep]),
            starts=np.cumsum([0] + [len(f.leaves) for f in deep[:-1]]),
            scale=np.array([f.scale for f in deep]), bias=np.array([f.bias for f in deep]))

    @cached_property
    def _levels(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each level's features and borders across the trees (``(depth, trees)``, contiguous) and the index of
        each tree's first leaf in the flat leaves."""
        return (np.ascontiguousarray(self.features.T), np.ascontiguousarray(self.borders.T),
                np.arange(len(self.leaves)) * self.leaves.shape[1])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Positive-class probabilities ``(n, forests)`` of the shared input ``X`` ``(n, columns)``."""
        X = np.asarray(X, dtype=np.float64)
        features, borders, first_leaf = self._levels
        leaf = np.tile(first_leaf, (len(X), 1))
        for level, (columns, border) in enumerate(zip(features, borders, strict=True)):
            # np.take: the same values as X[:, columns], gathered in a third of the time (0.36 -> 0.22 ms a row)
            leaf += (np.take(X, columns, axis=1) > border) << level  # NaN > border is False
        values = self.leaves.ravel()[leaf]  # (n, trees)
        raw = self.scale * np.add.reduceat(values, self.starts, axis=-1) + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-raw)))
