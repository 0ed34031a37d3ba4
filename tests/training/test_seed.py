"""The seed recipe's pieces on real records: per-class sampling, beats per record, mean over beats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardioscreen.datasets.labels import SEED17
from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.training.seed import BEAT_SAMPLES, beats_of, mean_by_owner, record_beats, sample_records


@pytest.fixture(scope="module")
def train(ptbxl_dir: Path) -> PTBXL:
    return PTBXL.load(ptbxl_dir).in_folds(range(1, 9))


class TestSampling:
    def test_all_positives_and_capped_others(self, train: PTBXL) -> None:
        labels = train.labels("seed17")
        y, mask = labels.y, labels.mask
        column = SEED17.index("IMI")
        rows = sample_records(y, mask, column, 5, np.random.default_rng(0))
        positives = np.flatnonzero(y[:, column] > 0)
        assert set(positives) <= set(rows)
        negatives = np.setdiff1d(rows, positives)
        # at most 5 records per other class and 5 without any seed class
        assert len(negatives) <= 5 * 17
        for k in range(17):
            if k != column:
                available = int(((y[:, k] > 0) & (y[:, column] == 0)).sum())
                assert (y[negatives, k] > 0).sum() >= min(5, available)

    def test_unknown_labels_never_sampled(self, train: PTBXL) -> None:
        labels = train.labels("seed17")
        mask = labels.mask.copy()
        mask[:50, 0] = False
        rows = sample_records(labels.y, mask, 0, 1000, np.random.default_rng(0))
        assert not np.isin(np.arange(50), rows).any()


class TestBeats:
    def test_beats_of_real_records(self, train: PTBXL) -> None:
        x = train.subset(np.arange(len(train)) < 3).signals(500, recipe="z100")
        beats, owners = beats_of(x, 100.0)
        assert beats.shape[1:] == (12, BEAT_SAMPLES)
        assert sorted(set(owners)) == [0, 1, 2]
        # a 10 s record at a normal rate has 6-20 beats
        assert all(5 <= n <= 25 for n in np.bincount(owners))
        np.testing.assert_array_equal(beats[owners == 1], record_beats(x[1], 100.0))

    def test_mean_by_owner(self) -> None:
        values = np.array([[1.0], [3.0], [10.0]])
        np.testing.assert_allclose(mean_by_owner(values, np.array([0, 0, 1]), 3), [[2.0], [10.0], [0.0]])
