"""The learned rhythm output: a multinomial logistic regression on the rhythm features.

It is fitted with scikit-learn by ``cardioscreen train-rhythm`` (:mod:`cardioscreen.rhythm.training`) on the
rhythm statements of PTB-XL folds 1-8 and stored in the package as one ``.npz`` file (no pickled objects:
medians for missing values, the scaler, the coefficients and a JSON header), evaluated here with NumPy alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.rhythm.features import FEATURE_NAMES

__all__ = ["RhythmModel", "default_model", "load_model"]

_ARRAYS = ("fill", "mean", "scale", "coef", "intercept")


@dataclass(frozen=True, eq=False)
class RhythmModel:
    """A softmax classifier over rhythm classes.

    Attributes
    ----------
    classes : tuple of str
        Rhythm codes, one per output (``n_classes``).
    feature_names : tuple of str
        The feature columns it was fitted on (must be :data:`~cardioscreen.rhythm.features.FEATURE_NAMES`).
    fill : np.ndarray
        ``(n_features,)`` value taking the place of a missing (NaN) feature: its training median.
    mean, scale : np.ndarray
        ``(n_features,)`` standardisation fitted on the training data.
    coef : np.ndarray
        ``(n_classes, n_features)`` weights of the standardised features.
    intercept : np.ndarray
        ``(n_classes,)``.
    meta : dict
        How it was trained (data, folds, validation figures).
    """

    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    fill: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n_classes, n_features = len(self.classes), len(self.feature_names)
        shapes = {"fill": (n_features,), "mean": (n_features,), "scale": (n_features,),
                  "coef": (n_classes, n_features), "intercept": (n_classes,)}
        for name, shape in shapes.items():
            if getattr(self, name).shape != shape:
                raise CardioScreenError(f"rhythm model {name} has shape {getattr(self, name).shape}; expected {shape}")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities of each row of ``X`` ``(n, n_features)``: shape ``(n, n_classes)``."""
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        X = np.where(np.isfinite(X), X, self.fill)
        logits = ((X - self.mean) / self.scale) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return np.asarray(p / p.sum(axis=1, keepdims=True))

    def save(self, path: str | Path) -> Path:
        """Write the model to one ``.npz`` file and return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"classes": list(self.classes), "feature_names": list(self.feature_names), "meta": self.meta}
        with path.open("wb") as handle:
            np.savez_compressed(handle, header=np.array(json.dumps(header)),
                                **{name: getattr(self, name) for name in _ARRAYS})
        return path


def load_model(path: str | Path) -> RhythmModel:
    """Read a model written by :meth:`RhythmModel.save`; it must use this version's feature columns."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            arrays = {name: np.asarray(data[name], dtype=np.float64) for name in _ARRAYS}
        classes, names = tuple(header["classes"]), tuple(header["feature_names"])
        meta = dict(header.get("meta", {}))
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise CardioScreenError(f"cannot read rhythm model {path}: {exc}") from exc
    if names != FEATURE_NAMES:
        raise CardioScreenError(f"rhythm model {path} was trained on other features ({len(names)} columns); "
                                "retrain it with `cardioscreen train-rhythm`")
    return RhythmModel(classes=classes, feature_names=names, meta=meta, **arrays)


@lru_cache(maxsize=1)
def default_model() -> RhythmModel:
    """The model shipped in the package (loaded once)."""
    with resources.as_file(resources.files("cardioscreen") / "data" / "rhythm" / "model.npz") as path:
        return load_model(path)
