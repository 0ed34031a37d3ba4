"""Random-subspace CatBoost: per class, several CatBoost models on different random feature subsets, averaged.

This is the prototype's boosting stage (network embeddings plus time/frequency features in, probabilities out)
with scikit-learn conventions: ``fit(X, Y, mask)`` returns ``self``, randomness comes from ``random_state``,
learned attributes end in ``_``. Labels may be partly unknown (``mask``): each class trains on its known rows.
CatBoost fits the models; each fitted model is kept as the arrays of its trees
(:class:`~cardioscreen.ensemble.trees.ObliviousForest`), which predict with NumPy alone and are saved in one
``.npz`` file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cardioscreen.ensemble.trees import ForestSet, ObliviousForest
from cardioscreen.errors import CardioScreenError

if TYPE_CHECKING:
    from catboost import CatBoostClassifier

logger = logging.getLogger(__name__)

TREES_FILE = "boosting.npz"
"""File of the models' trees inside the ensemble folder."""


class SubspaceBoosting:
    """Averaged CatBoost models on random feature subsets, one set per class (multi-label, masked).

    Parameters
    ----------
    n_models : int
        Models per class, each on its own feature subset.
    feature_fraction : float
        Fraction of the features each model sees, in (0, 1].
    iterations, depth, learning_rate : int, int, float
        CatBoost settings.
    min_per_class : int
        A class needs this many known positives and negatives; otherwise it predicts its training prior.
    thread_count : int
        CatBoost threads.
    random_state : int
        Seed of the subsets and of CatBoost.

    Attributes
    ----------
    subsets_ : np.ndarray
        ``(n_models, n_selected)`` feature indices of each model (shared by all classes).
    forests_ : list of list of ObliviousForest
        Per class, the fitted models' trees (empty for a class that predicts its prior).
    priors_ : np.ndarray
        ``(C,)`` known-label positive rate per class.
    n_features_in_ : int
        Number of input features.
    forest_set_ : ForestSet or None
        All of ``forests_`` joined for prediction in one pass (None when every class predicts its prior).
    """

    def __init__(
        self,
        n_models: int = 5,
        feature_fraction: float = 0.5,
        iterations: int = 300,
        depth: int = 4,
        learning_rate: float = 0.05,
        min_per_class: int = 3,
        thread_count: int = 1,
        random_state: int = 0,
    ) -> None:
        self.n_models = n_models
        self.feature_fraction = feature_fraction
        self.iterations = iterations
        self.depth = depth
        self.learning_rate = learning_rate
        self.min_per_class = min_per_class
        self.thread_count = thread_count
        self.random_state = random_state

    def _new_model(self, seed: int) -> CatBoostClassifier:
        from catboost import CatBoostClassifier

        return CatBoostClassifier(
            iterations=self.iterations, depth=self.depth, learning_rate=self.learning_rate, random_seed=seed,
            thread_count=self.thread_count, verbose=False, allow_writing_files=False,
        )

    def fit(self, X: np.ndarray, Y: np.ndarray, mask: np.ndarray | None = None) -> SubspaceBoosting:
        """Fit on features ``X`` ``(n, F)`` and 0/1 labels ``Y`` ``(n, C)`` (``mask``: label known)."""
        if not 0 < self.feature_fraction <= 1 or self.n_models < 1:
            raise CardioScreenError(f"need n_models >= 1 and 0 < feature_fraction <= 1, got {self.n_models}, "
                                    f"{self.feature_fraction}")
        X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
        known = np.ones(Y.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        rng = np.random.default_rng(self.random_state)
        n_features = X.shape[1]
        k = max(1, int(round(self.feature_fraction * n_features)))
        self.n_features_in_ = n_features
        self.subsets_ = np.stack([np.sort(rng.choice(n_features, k, replace=False)) for _ in range(self.n_models)])
        self.priors_ = np.array([Y[known[:, j], j].mean() if known[:, j].any() else 0.0 for j in range(Y.shape[1])])
        self.forests_: list[list[ObliviousForest]] = []
        for j in range(Y.shape[1]):
            rows = known[:, j]
            y = (Y[rows, j] > 0.5).astype(np.int64)
            if min(int(y.sum()), int(len(y) - y.sum())) < self.min_per_class:
                self.forests_.append([])
                continue
            forests = []
            for m, subset in enumerate(self.subsets_):
                model = self._new_model(self.random_state * 1000 + m)
                forests.append(ObliviousForest.from_catboost(model.fit(X[rows][:, subset], y)))
            self.forests_.append(forests)
            logger.debug("boosting class %d: %d rows, %d positives", j, len(y), int(y.sum()))
        self._join_forests()
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Averaged positive-class probabilities ``(n, C)``."""
        X = np.asarray(X, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise CardioScreenError(f"{X.shape[1]} features given to a model fitted on {self.n_features_in_}")
        out = np.tile(self.priors_, (len(X), 1))  # classes without models keep their prior
        fitted = [j for j, forests in enumerate(self.forests_) if forests]
        if self.forest_set_ is not None:
            probs = self.forest_set_.predict_proba(X).reshape(len(X), len(fitted), -1)  # (n, classes, models)
            out[:, fitted] = probs.mean(axis=-1)
        return out

    def _join_forests(self) -> None:
        """Every class's forests as one :class:`ForestSet` (class by class, model by model), None if none."""
        fitted = [j for j, forests in enumerate(self.forests_) if forests]
        forests = [f for j in fitted for f in self.forests_[j]]
        columns = [s for j in fitted for s, _ in zip(self.subsets_, self.forests_[j], strict=True)]
        self.forest_set_ = ForestSet.of(forests, columns) if fitted else None

    def save(self, directory: Path) -> dict[str, Any]:
        """Write every model's trees into ``directory/boosting.npz``; returns the description."""
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for j, forests in enumerate(self.forests_):
            for m, forest in enumerate(forests):
                arrays.update(forest.to_arrays(f"class_{j:02d}_model_{m}_"))
        np.savez_compressed(directory / TREES_FILE, **arrays)  # type: ignore[arg-type]
        return {
            "params": {k: getattr(self, k) for k in ("n_models", "feature_fraction", "iterations", "depth",
                                                     "learning_rate", "min_per_class", "thread_count",
                                                     "random_state")},
            "subsets": self.subsets_.tolist(), "priors": self.priors_.tolist(), "trees": TREES_FILE,
            "models_per_class": [len(forests) for forests in self.forests_], "n_features_in": self.n_features_in_,
        }

    @classmethod
    def load(cls, directory: Path, description: dict[str, Any]) -> SubspaceBoosting:
        """The model written by :meth:`save` (NumPy only: CatBoost is not needed to predict)."""
        if "trees" not in description:
            raise CardioScreenError(f"{directory} holds CatBoost files of an older format; re-fit the ensemble "
                                    "with `cardioscreen train-ensemble`")
        boosting = cls(**description["params"])
        boosting.subsets_ = np.asarray(description["subsets"], dtype=np.int64)
        boosting.priors_ = np.asarray(description["priors"], dtype=np.float64)
        boosting.n_features_in_ = int(description["n_features_in"])
        with np.load(directory / description["trees"]) as arrays:
            boosting.forests_ = [[ObliviousForest.from_arrays(arrays, f"class_{j:02d}_model_{m}_") for m in range(n)]
                                 for j, n in enumerate(description["models_per_class"])]
        boosting._join_forests()
        return boosting
