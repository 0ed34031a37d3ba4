"""The ptbxl-z100 folder: signals, splits, seed17 and superclass labels, patients."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cardioscreen.datasets.labels import SEED17, SUPERCLASSES
from cardioscreen.datasets.z100 import Z100
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

    def test_seed17_from_scp_codes(self, z100: Z100) -> None:
        labels = z100.labels("seed17")
        assert labels.classes == SEED17 and labels.mask.all()  # scp_codes: every class known, nothing masked
        # the shared data README's counts of the ptbxl-z100 records
        counts = dict(zip(SEED17, labels.y.sum(axis=0).astype(int), strict=True))
        assert counts == {"NORM": 862, "IMI": 93, "NDT": 167, "NST_": 56, "LVH": 134, "LAFB": 120, "IRBBB": 96,
                          "IVCD": 66, "ASMI": 106, "AMI": 16, "ISCAL": 53, "1AVB": 66, "ILMI": 14, "ISC_": 111,
                          "CRBBB": 45, "CLBBB": 52, "LAO/LAE": 34}
        # the NORM statement is the NORM superclass
        norm = z100.labels("superdiagnostic", ["NORM"]).y[:, 0]
        np.testing.assert_array_equal(labels.y[:, SEED17.index("NORM")], norm)

    def test_other_tasks_refused(self, z100: Z100) -> None:
        with pytest.raises(CardioScreenError, match="superdiagnostic"):
            z100.labels("form")
