"""ECG-SMOTE and classic SMOTE on real PTB-XL beats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from imblearn.over_sampling import SMOTE

from cardioscreen.augment.smote import ClassicSmote, EcgSmote, resample_training_folds
from cardioscreen.errors import CardioScreenError

FS = 100


@pytest.fixture(scope="module")
def beats(ptbxl_dir: Path) -> dict[str, np.ndarray]:
    """Beats (n, 12, 60) of 24 real records from folds 1-9; label 1 = not NORM; record ids and folds per beat."""
    from cardioscreen.datasets.ptbxl import PTBXL
    from cardioscreen.signal.beats import ecg_beats
    from cardioscreen.signal.peaks import ecg_peaks

    ptbxl = PTBXL.load(ptbxl_dir)
    meta = ptbxl.meta
    chosen = np.concatenate([meta.index[meta.strat_fold == f][:3] for f in range(1, 10)])[:24]
    xs, ys, groups, folds = [], [], [], []
    for ecg_id in chosen:
        sig = ptbxl.read_signal(int(ecg_id), FS)
        peaks, _ = ecg_peaks(sig, FS)
        b, _ = ecg_beats(sig, FS, peaks, n_samples=60)
        xs.append(b)
        ys += [int("NORM" not in meta.loc[ecg_id, "scp_codes"])] * len(b)
        groups += [int(ecg_id)] * len(b)
        folds += [int(meta.loc[ecg_id, "strat_fold"])] * len(b)
    return {"X": np.concatenate(xs).astype(np.float32), "y": np.array(ys), "groups": np.array(groups),
            "folds": np.array(folds)}


def _minority(y: np.ndarray) -> int:
    values, counts = np.unique(y, return_counts=True)
    return int(values[counts.argmin()])


class TestEcgSmote:
    def test_never_pairs_within_a_record(self, beats: dict[str, np.ndarray]) -> None:
        X, y, groups = beats["X"], beats["y"], beats["groups"]
        smote = EcgSmote(sampling_strategy="double", random_state=0, return_groups=True)
        X_res, y_res, g_res = smote.fit_resample(X, y, groups=groups)
        pairs = smote.pairs_
        assert len(pairs) == (y == _minority(y)).sum()
        assert (groups[pairs[:, 0]] != groups[pairs[:, 1]]).all()
        assert (y[pairs[:, 0]] == y[pairs[:, 1]]).all()
        np.testing.assert_allclose(X_res[len(X):], (X[pairs[:, 0]] + X[pairs[:, 1]]) / 2, rtol=1e-6)
        np.testing.assert_array_equal(X_res[: len(X)], X)
        np.testing.assert_array_equal(g_res[len(X):], groups[pairs[:, 0]])
        assert X_res.shape[1:] == X.shape[1:] and len(y_res) == len(X_res)

    def test_partner_is_nearest_from_another_record(self, beats: dict[str, np.ndarray]) -> None:
        X, y, groups = beats["X"], beats["y"], beats["groups"]
        smote = EcgSmote(sampling_strategy="double", random_state=0)
        smote.fit_resample(X.reshape(len(X), -1), y, groups=groups)
        flat = X.reshape(len(X), -1).astype(np.float64)
        for anchor, partner in smote.pairs_[:20]:
            candidates = np.flatnonzero((y == y[anchor]) & (groups != groups[anchor]))
            dist = ((flat[candidates] - flat[anchor]) ** 2).sum(axis=1)
            assert dist.min() == pytest.approx(((flat[partner] - flat[anchor]) ** 2).sum(), rel=1e-9)

    def test_auto_balances_at_most_to_majority(self, beats: dict[str, np.ndarray]) -> None:
        X, y, groups = beats["X"], beats["y"], beats["groups"]
        _, y_res = EcgSmote(random_state=1).fit_resample(X, y, groups=groups)
        counts = np.bincount(y_res)
        assert counts.max() == np.bincount(y).max()
        assert counts.min() > np.bincount(y).min()

    def test_training_folds_only(self, beats: dict[str, np.ndarray]) -> None:
        X, y, groups, folds = beats["X"], beats["y"], beats["groups"], beats["folds"]
        smote = EcgSmote(sampling_strategy="double", random_state=0)
        X_res, y_res, g_res = resample_training_folds(smote, X, y, groups, folds)
        train = folds <= 8
        assert not np.isin(g_res, groups[~train]).any()
        n_train = int(train.sum())
        np.testing.assert_array_equal(X_res[:n_train], X[train])
        assert len(X_res) > n_train

    def test_refuses_validation_and_test_folds(self, beats: dict[str, np.ndarray]) -> None:
        for bad in ([1, 2, 9], [10]):
            with pytest.raises(CardioScreenError, match="validation/test"):
                resample_training_folds(EcgSmote(), beats["X"], beats["y"], beats["groups"], beats["folds"], bad)


class TestClassicSmote:
    def test_agrees_with_imbalanced_learn(self, beats: dict[str, np.ndarray]) -> None:
        X, y = beats["X"], beats["y"]
        flat = X.reshape(len(X), -1)
        ours = ClassicSmote(k_neighbors=5, random_state=3)
        X_res, y_res = ours.fit_resample(X, y)
        ref = SMOTE(k_neighbors=5, random_state=3)
        X_ref, y_ref = ref.fit_resample(flat, y)
        minority = _minority(y)
        rows = flat[y == minority]
        ref_nn = ref.nn_k_.kneighbors(rows, return_distance=False)[:, 1:]
        np.testing.assert_array_equal(np.sort(ours.neighbors_[minority], 1), np.sort(ref_nn, 1))
        np.testing.assert_array_equal(y_res, y_ref)
        np.testing.assert_allclose(X_res.reshape(len(X_res), -1), X_ref, rtol=1e-5, atol=1e-6)

    def test_points_on_segments_to_neighbours(self, beats: dict[str, np.ndarray]) -> None:
        X, y = beats["X"], beats["y"]
        smote = ClassicSmote(k_neighbors=5, random_state=0)
        X_res, _ = smote.fit_resample(X, y)
        minority = _minority(y)
        rows = X.reshape(len(X), -1)[y == minority].astype(np.float64)
        nn_idx = smote.neighbors_[minority]
        for point in X_res[len(X):][:15].reshape(15, -1).astype(np.float64):
            found = False
            for i in range(len(rows)):
                for j in nn_idx[i]:
                    seg = rows[j] - rows[i]
                    t = float(seg @ (point - rows[i]) / (seg @ seg))
                    if 0 <= t <= 1 and np.allclose(rows[i] + t * seg, point, atol=1e-4):
                        found = True
            assert found

    def test_too_few_samples(self) -> None:
        X = np.random.default_rng(0).normal(size=(12, 4))
        with pytest.raises(CardioScreenError, match="k_neighbors"):
            ClassicSmote(k_neighbors=5).fit_resample(X, np.r_[np.zeros(9), np.ones(3)])
