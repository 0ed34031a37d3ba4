"""Learned verification of R-peak candidates: the default detector of :func:`cardioscreen.signal.peaks.ecg_peaks`.

The fused-envelope candidates (:mod:`cardioscreen.signal.peak_candidates`, nearly every beat is among them) are
described by :func:`~cardioscreen.signal.peak_features.candidate_features` and scored by a gradient-boosted tree
ensemble; those with a beat probability of at least one half are the R-peaks. The ensemble is stored in the package
(``cardioscreen/data/peaks/verifier.npz``), trained by ``cardioscreen train-peaks``
(:mod:`cardioscreen.signal.peak_train`), and evaluated here with NumPy alone: every tree is walked one level at a
time for all candidates at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.signal.peak_candidates import find_candidates, to_peaks
from cardioscreen.signal.peak_features import FEATURE_NAMES, candidate_features

if TYPE_CHECKING:
    from cardioscreen.signal.peaks import PeakConfig

__all__ = ["TreeEnsemble", "default_verifier", "load_verifier", "verified_peaks"]

_ARRAYS = ("feature", "threshold", "left", "right", "value")


@dataclass(frozen=True)
class TreeEnsemble:
    """Binary gradient-boosted trees in flat arrays, each ``(n_trees, n_nodes)`` (short trees padded with leaves).

    Node ``j`` of tree ``t`` sends a sample to ``left[t, j]`` when its feature ``feature[t, j]`` is at most
    ``threshold[t, j]`` (a NaN goes left too, but the features have none: see
    :data:`~cardioscreen.signal.peak_features.MISSING`), else to ``right[t, j]``; a leaf points to itself and holds
    ``value[t, j]``. The log-odds of a beat are ``baseline`` plus the sum of the leaves reached.

    Attributes
    ----------
    feature, threshold, left, right, value : np.ndarray
        The node arrays (int64, float64, int64, int64, float64).
    baseline : float
        Log-odds before the trees.
    depth : int
        The deepest leaf's depth (levels walked per prediction).
    feature_names : tuple of str
        The feature columns the trees were fitted on (must be :data:`FEATURE_NAMES`).
    meta : dict
        How the ensemble was trained (data, parameters, cross-validated scores).
    """

    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    baseline: float
    depth: int
    feature_names: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = self.feature.shape
        if len(shape) != 2 or any(getattr(self, name).shape != shape for name in _ARRAYS):
            raise CardioScreenError(f"tree arrays must share one (n_trees, n_nodes) shape, got {shape}")
        if self.depth < 0:
            raise CardioScreenError(f"tree depth must not be negative, got {self.depth}")
        n_nodes = shape[1]
        for name in ("left", "right"):
            child = getattr(self, name)
            if child.size and (child.min() < 0 or child.max() >= n_nodes):
                raise CardioScreenError(f"tree {name} children must index nodes 0..{n_nodes - 1}")
        if self.feature.size and (self.feature.min() < 0 or self.feature.max() >= len(self.feature_names)):
            raise CardioScreenError("tree features must index feature_names")

    @cached_property
    def _flat(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Node arrays over all trees in one index: feature, threshold, ``children`` (the left child of flat
        node ``j`` at ``2 j``, the right one at ``2 j + 1``, as flat indices) and leaf value."""
        n_trees, n_nodes = self.feature.shape
        offset = (np.arange(n_trees, dtype=np.int64) * n_nodes)[:, None]
        children = np.stack([self.left + offset, self.right + offset], axis=-1).ravel()
        return self.feature.ravel(), self.threshold.ravel(), children, self.value.ravel()

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of a beat for each row of ``X`` ``(n, n_features)``: shape ``(n,)``."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        feature, threshold, children, value = self._flat
        n_trees, n_nodes = self.feature.shape
        node = np.tile(np.arange(n_trees, dtype=np.int64) * n_nodes, (len(X), 1))
        row = (np.arange(len(X), dtype=np.int64) * X.shape[1])[:, None]
        flat_x = X.ravel()
        for _ in range(self.depth):
            node = children[2 * node + (flat_x[row + feature[node]] > threshold[node])]
        return np.asarray(self.baseline + value[node].sum(axis=1))

    def is_beat(self, X: np.ndarray) -> np.ndarray:
        """``predict_proba(X) >= 0.5`` (log-odds at least 0) for each row of ``X`` ``(n, n_features)``: ``(n,)``."""
        return np.asarray(self.decision_function(X) >= 0)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Beat probability of each row of ``X`` ``(n, n_features)``: shape ``(n,)``."""
        return np.asarray(1.0 / (1.0 + np.exp(-self.decision_function(X))))

    def save(self, path: str | Path) -> Path:
        """Write the ensemble to one ``.npz`` file (no pickled objects) and return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"baseline": self.baseline, "depth": self.depth, "feature_names": list(self.feature_names),
                  "meta": self.meta}
        with path.open("wb") as handle:
            np.savez_compressed(handle, header=np.array(json.dumps(header)),
                                **{name: getattr(self, name) for name in _ARRAYS})
        return path


def load_verifier(path: str | Path) -> TreeEnsemble:
    """Read an ensemble written by :meth:`TreeEnsemble.save`; it must use this version's feature columns."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            arrays = {name: np.asarray(data[name]) for name in _ARRAYS}
        names = tuple(header["feature_names"])
        baseline, depth, meta = float(header["baseline"]), int(header["depth"]), dict(header.get("meta", {}))
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise CardioScreenError(f"cannot read R-peak verifier {path}: {exc}") from exc
    if names != FEATURE_NAMES:
        raise CardioScreenError(f"R-peak verifier {path} was trained on other features ({len(names)} columns); "
                                "retrain it with `cardioscreen train-peaks`")
    return TreeEnsemble(baseline=baseline, depth=depth, feature_names=names, meta=meta, **arrays)


@lru_cache(maxsize=1)
def default_verifier() -> TreeEnsemble:
    """The ensemble shipped in the package (loaded once)."""
    with resources.as_file(resources.files("cardioscreen") / "data" / "peaks" / "verifier.npz") as path:
        return load_verifier(path)


def verified_peaks(sig: np.ndarray, fs: float, cfg: PeakConfig, model: TreeEnsemble | None = None
                   ) -> tuple[np.ndarray, dict[str, Any]]:
    """R-peaks of ``sig`` ``(leads, samples)`` (mV, ``fs`` Hz): the plausible candidates (those above the local
    background) that ``model`` (default: the shipped ensemble) gives a beat probability of at least 0.5, refined to
    the R extremum; and the info dict."""
    model = default_verifier() if model is None else model
    cands = find_candidates(sig, fs, cfg).select_plausible()
    peaks, info = to_peaks(sig, fs, cands, model.is_beat(candidate_features(cands, cands.rule)), cfg)
    return peaks, dict(info)
