"""The ptbxl-z100 folder: signals, splits, labels with the unknown seed classes masked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cardioscreen.datasets.labels import SEED17, SUPERCLASSES
from cardioscreen.datasets.z100 import SNOMED_SEED, Z100
from cardioscreen.errors import CardioScreenError


@pytest.fixture(scope="module")
def z100(shared_data: Path) -> Z100:
    return Z100.load(shared_data / "ptbxl-z100")


class TestZ100:
    def test_splits(self, z100: Z100) -> None:
        assert len(z100) == 1598
        assert len(z100.in_folds(range(1, 9))) == 1420
        assert len(z100.in_folds([9])) == 178
        assert len(z100.in_folds([10])) == 0

    def test_signals(self, z100: Z100) -> None:
        val = z100.in_folds([9])
        x = val.signals()
        assert x.shape == (178, 12, 1000) and x.dtype == np.float32
        stored = np.load(z100.root / "signals.npy", mmap_mode="r")
        np.testing.assert_array_equal(x[0], stored[val.rows[0]].astype(np.float32))

    def test_superdiagnostic(self, z100: Z100) -> None:
        labels = z100.labels("superdiagnostic")
        index = pd.read_csv(z100.root / "index.csv")
        assert labels.classes == SUPERCLASSES and labels.mask.all()
        np.testing.assert_array_equal(labels.y, index[list(SUPERCLASSES)].to_numpy())

    def test_seed17_masks_unknown(self, z100: Z100) -> None:
        labels = z100.labels("seed17")
        known = {SEED17[j] for j in np.flatnonzero(labels.mask.any(axis=0))}
        assert known == {"NORM", *SNOMED_SEED}
        # README: 120 LAFB, 96 IRBBB, 66 IVCD, 66 1AVB, 45 CRBBB, 52 CLBBB positives
        counts = dict(zip(SEED17, labels.y.sum(axis=0).astype(int), strict=True))
        assert [counts[c] for c in ("LAFB", "IRBBB", "IVCD", "1AVB", "CRBBB", "CLBBB")] == [120, 96, 66, 66, 45, 52]
        cd = z100.labels("superdiagnostic", ["CD"]).y[:, 0]
        assert (cd[labels.y[:, [SEED17.index(c) for c in SNOMED_SEED]].any(axis=1)] == 1).all()
        assert labels.mask[:, SEED17.index("IMI")].sum() == 0

    def test_other_tasks_refused(self, z100: Z100) -> None:
        with pytest.raises(CardioScreenError, match="superdiagnostic"):
            z100.labels("form")
