"""SMOTE resamplers with scikit-learn conventions: ECG-SMOTE (the prototype's) and classic SMOTE.

``X`` is ``(n, leads, samples)`` beats or any ``(n, ...)`` array; it is flattened to ``(n, features)`` for the
neighbour search and the synthetic samples keep the input's trailing shape. Only the training fold may be
resampled: :func:`resample_training_folds` takes fold ids and refuses validation or test folds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.neighbors import NearestNeighbors

from cardioscreen.errors import CardioScreenError

VALIDATION_TEST_FOLDS = (9, 10)


def _flatten(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim < 2 or len(X) != len(y):
        raise CardioScreenError(f"X must be (n, ...) with n = len(y) = {len(y)}, got shape {X.shape}")
    return X.reshape(len(X), -1)


def _minority_counts(y: np.ndarray) -> dict[Any, int]:
    """Synthetic samples per class that bring every class up to the majority count ("auto" strategy)."""
    classes, counts = np.unique(y, return_counts=True)
    return {c: int(counts.max() - n) for c, n in zip(classes, counts, strict=True) if n < counts.max()}


class EcgSmote(BaseEstimator):
    """The prototype's ECG-SMOTE: each chosen minority beat averaged with its nearest same-class beat of a
    *different record*.

    Parameters
    ----------
    sampling_strategy : {"auto", "double"}
        ``"auto"``: synthesise up to the majority count, at most one synthetic beat per minority beat (beats are
        picked at random when fewer are needed). ``"double"``: one synthetic beat for every minority beat.
    random_state : int or None
        Seed for picking the beats.
    return_groups : bool
        Also return the record ids of the output (a synthetic beat takes its anchor beat's record).

    Attributes
    ----------
    pairs_ : np.ndarray
        ``(n_synthetic, 2)`` row indices into the input: anchor and neighbour of every synthetic beat.
    """

    def __init__(self, sampling_strategy: str = "auto", random_state: int | None = None,
                 return_groups: bool = False) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        self.return_groups = return_groups

    def _n_synthetic(self, y: np.ndarray) -> dict[Any, int]:
        classes, counts = np.unique(y, return_counts=True)
        if self.sampling_strategy == "double":
            return {c: int(n) for c, n in zip(classes, counts, strict=True) if n < counts.max()}
        if self.sampling_strategy == "auto":
            return {c: min(n, int(counts.max() - n)) for c, n in zip(classes, counts, strict=True) if n < counts.max()}
        raise CardioScreenError(f"unknown sampling_strategy {self.sampling_strategy!r}; choose 'auto' or 'double'")

    def fit_resample(
        self, X: np.ndarray, y: np.ndarray, groups: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Append synthetic minority beats to ``X``, ``y`` (and ``groups``).

        Parameters
        ----------
        X : np.ndarray
            ``(n, leads, samples)`` beats or ``(n, features)``.
        y : np.ndarray
            ``(n,)`` class labels.
        groups : np.ndarray
            ``(n,)`` record ids; a beat is never paired with a beat of the same record.

        Returns
        -------
        X_res, y_res[, groups_res]
            The input followed by the synthetic samples. A minority beat whose class has no beat in another
            record gets no partner and no synthetic beat.
        """
        X_res, y_res, groups_res = self._resample(X, y, groups)
        return (X_res, y_res, groups_res) if self.return_groups else (X_res, y_res)

    def _resample(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y, groups = np.asarray(y), np.asarray(groups)
        if groups.shape != y.shape:
            raise CardioScreenError(f"groups shape {groups.shape} differs from y shape {y.shape}")
        flat = _flatten(X, y)
        rng = np.random.default_rng(self.random_state)
        pairs = []
        for label, wanted in self._n_synthetic(y).items():
            rows = np.flatnonzero(y == label)
            partner = _nearest_other_group(flat[rows], groups[rows])
            usable = np.flatnonzero(partner >= 0)
            take = rng.permutation(usable)[: min(wanted, len(usable))]
            pairs.append(np.stack([rows[take], rows[partner[take]]], axis=1))
        self.pairs_ = np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64)
        X = np.asarray(X)
        synthetic = (X[self.pairs_[:, 0]] + X[self.pairs_[:, 1]]) / 2
        X_res = np.concatenate([X, synthetic.astype(X.dtype, copy=False)])
        y_res = np.concatenate([y, y[self.pairs_[:, 0]]])
        return X_res, y_res, np.concatenate([groups, groups[self.pairs_[:, 0]]])


def _nearest_other_group(flat: np.ndarray, groups: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Index (into ``flat``) of each row's nearest row from another group; -1 where there is none."""
    data = flat.astype(np.float64, copy=False)
    sq = (data**2).sum(axis=1)
    out = np.full(len(data), -1, dtype=np.int64)
    for start in range(0, len(data), chunk):
        block = data[start : start + chunk]
        dist = sq[start : start + chunk, None] + sq[None, :] - 2.0 * block @ data.T
        dist[groups[start : start + chunk, None] == groups[None, :]] = np.inf
        best = dist.argmin(axis=1)
        finite = np.isfinite(dist[np.arange(len(block)), best])
        out[start : start + chunk] = np.where(finite, best, -1)
    return out


class ClassicSmote(BaseEstimator):
    """Classic SMOTE (Chawla et al. 2002): synthetic points at random positions on the segments between a minority
    sample and one of its ``k_neighbors`` nearest same-class neighbours, up to the majority count.

    It draws random numbers as imbalanced-learn's ``SMOTE`` does (per class, in sorted class order, a fresh
    ``RandomState(random_state)`` draws the sample indices, then the steps), so both give the same points.

    Attributes
    ----------
    neighbors_ : dict
        Per oversampled class, ``(n_class, k_neighbors)`` neighbour indices (into that class's rows).
    """

    def __init__(self, k_neighbors: int = 5, random_state: int | None = None) -> None:
        self.k_neighbors = k_neighbors
        self.random_state = random_state

    def fit_resample(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``X`` and ``y`` followed by the synthetic samples (trailing shape of ``X`` kept)."""
        y = np.asarray(y)
        flat = _flatten(X, y)
        self.neighbors_: dict[Any, np.ndarray] = {}
        new_x, new_y = [flat], [y]
        for label, n_samples in sorted(_minority_counts(y).items()):
            rows = flat[y == label]
            if len(rows) <= self.k_neighbors:
                raise CardioScreenError(
                    f"class {label!r} has {len(rows)} samples; SMOTE needs more than k_neighbors={self.k_neighbors}"
                )
            nn_idx = NearestNeighbors(n_neighbors=self.k_neighbors + 1).fit(rows).kneighbors(rows)[1][:, 1:]
            self.neighbors_[label] = nn_idx
            rng = np.random.RandomState(self.random_state)
            picks = rng.randint(low=0, high=nn_idx.size, size=n_samples)
            steps = rng.uniform(size=n_samples)[:, None]
            anchor, partner = picks // self.k_neighbors, nn_idx[picks // self.k_neighbors, picks % self.k_neighbors]
            new_x.append((rows[anchor] + steps * (rows[partner] - rows[anchor])).astype(flat.dtype, copy=False))
            new_y.append(np.full(n_samples, label, dtype=y.dtype))
        X_res = np.concatenate(new_x)
        return X_res.reshape(len(X_res), *np.asarray(X).shape[1:]), np.concatenate(new_y)


def resample_training_folds(
    resampler: EcgSmote,
    X: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    folds: np.ndarray,
    train_folds: Iterable[int] = range(1, 9),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ECG-SMOTE on the rows of the training folds only; the other rows are left out of the result.

    Parameters
    ----------
    resampler : EcgSmote
        The resampler (left unchanged: a clone is fitted; groups are always returned).
    X, y, groups, folds : np.ndarray
        Beats, labels, record ids and the ``strat_fold`` of every row.
    train_folds : iterable of int
        Folds to resample; naming a validation or test fold (9, 10) raises :class:`CardioScreenError`.

    Returns
    -------
    X_res, y_res, groups_res
        Training rows followed by synthetic beats built from training rows only.
    """
    train = sorted(set(int(f) for f in train_folds))
    forbidden = sorted(set(train) & set(VALIDATION_TEST_FOLDS))
    if forbidden:
        raise CardioScreenError(f"refusing to resample validation/test folds {forbidden}; only training folds")
    rows = np.isin(np.asarray(folds), train)
    if not rows.any():
        raise CardioScreenError(f"no rows in training folds {train}")
    return clone(resampler)._resample(np.asarray(X)[rows], np.asarray(y)[rows], np.asarray(groups)[rows])
