"""Random-subspace CatBoost: per class, several CatBoost models on different random feature subsets, averaged.

This is the prototype's boosting stage (network embeddings plus time/frequency features in, probabilities out)
with scikit-learn conventions: ``fit(X, Y, mask)`` returns ``self``, randomness comes from ``random_state``,
learned attributes end in ``_``. Labels may be partly unknown (``mask``): each class trains on its known rows.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cardioscreen.errors import CardioScreenError

if TYPE_CHECKING:
    from catboost import CatBoostClassifier

logger = logging.getLogger(__name__)


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
    models_ : list of list of CatBoostClassifier
        Per class, the fitted models (empty for a class that predicts its prior).
    priors_ : np.ndarray
        ``(C,)`` known-label positive rate per class.
    n_features_in_ : int
        Number of input features.
    """

    _model_files: list[list[Path]] | None = None
    """CatBoost files still to be read (set by :meth:`load`)."""

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
        self.models_: list[list[CatBoostClassifier]] = []
        for j in range(Y.shape[1]):
            rows = known[:, j]
            y = (Y[rows, j] > 0.5).astype(np.int64)
            if min(int(y.sum()), int(len(y) - y.sum())) < self.min_per_class:
                self.models_.append([])
                continue
            models = []
            for m, subset in enumerate(self.subsets_):
                model = self._new_model(self.random_state * 1000 + m)
                models.append(model.fit(X[rows][:, subset], y))
            self.models_.append(models)
            logger.debug("boosting class %d: %d rows, %d positives", j, len(y), int(y.sum()))
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Averaged positive-class probabilities ``(n, C)``."""
        self._load_models()
        X = np.asarray(X, dtype=np.float64)
        if X.shape[1] != self.n_features_in_:
            raise CardioScreenError(f"{X.shape[1]} features given to a model fitted on {self.n_features_in_}")
        out = np.empty((len(X), len(self.models_)))
        for j, models in enumerate(self.models_):
            if not models:
                out[:, j] = self.priors_[j]
                continue
            out[:, j] = np.mean([mdl.predict_proba(X[:, s])[:, 1] for mdl, s in zip(models, self.subsets_,
                                                                                    strict=True)], axis=0)
        return out

    def save(self, directory: Path) -> dict[str, Any]:
        """Write every CatBoost model as ``class_<j>_model_<m>.cbm`` into ``directory``; returns the description."""
        self._load_models()
        directory.mkdir(parents=True, exist_ok=True)
        files = []
        for j, models in enumerate(self.models_):
            names = []
            for m, model in enumerate(models):
                name = f"class_{j:02d}_model_{m}.cbm"
                model.save_model(str(directory / name))
                names.append(name)
            files.append(names)
        return {
            "params": {k: getattr(self, k) for k in ("n_models", "feature_fraction", "iterations", "depth",
                                                     "learning_rate", "min_per_class", "thread_count",
                                                     "random_state")},
            "subsets": self.subsets_.tolist(), "priors": self.priors_.tolist(), "files": files,
            "n_features_in": self.n_features_in_,
        }

    @classmethod
    def load(cls, directory: Path, description: dict[str, Any]) -> SubspaceBoosting:
        """The model written by :meth:`save`; its CatBoost files are read on first use (loading CatBoost costs
        a few tenths of a second, wasted when the bundle's default output is the network alone)."""
        boosting = cls(**description["params"])
        boosting.subsets_ = np.asarray(description["subsets"], dtype=np.int64)
        boosting.priors_ = np.asarray(description["priors"], dtype=np.float64)
        boosting.n_features_in_ = int(description["n_features_in"])
        boosting._model_files = [[directory / name for name in names] for names in description["files"]]
        return boosting

    def _load_models(self) -> None:
        """Read the CatBoost files named by :meth:`load`, once."""
        files = self._model_files
        if files is None:
            return
        from catboost import CatBoostClassifier

        self.models_ = []
        for paths in files:
            models = []
            for path in paths:
                model = CatBoostClassifier()
                model.load_model(str(path))
                models.append(model)
            self.models_.append(models)
        self._model_files = None
