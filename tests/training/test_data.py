"""Training data from the real folders: splits, patient-wise check, labels of both folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardioscreen.datasets.labels import SEED17
from cardioscreen.errors import CardioScreenError
from cardioscreen.training.data import FoldSpec, TaskData, check_patient_wise, load_training_data


@pytest.fixture(scope="module")
def data(ptbxl_dir: Path, shared_data: Path) -> TaskData:
    return load_training_data(ptbxl_dir, ("seed17", "superdiagnostic"), extra_dirs=[shared_data / "ptbxl-z100"])


class TestTrainingData:
    def test_splits(self, data: TaskData) -> None:
        ptbxl, z = data.source == "ptbxl", data.source == "z100"
        assert (data.split[ptbxl] == "val").sum() == 307  # fold 9 of the shared subset
        assert (data.split[ptbxl] == "train").sum() == 2486 - 307
        assert (data.split[z] == "train").sum() == 1420 and (data.split[z] == "val").sum() == 178
        assert data.x.shape[1:] == (12, 1000) and data.x.dtype == np.float32

    def test_labels_and_masks(self, data: TaskData) -> None:
        assert [label.code for label in data.labels[:17]] == list(SEED17)
        assert {label.task for label in data.labels} == {"seed17", "superdiagnostic"}
        imi = SEED17.index("IMI")
        assert data.mask.all()  # both folders know every label (z100 through its scp_codes)
        assert data.y[data.source == "z100", imi].sum() == 93

    def test_patient_wise(self, data: TaskData) -> None:
        check_patient_wise(data)
        bad = data.take(np.flatnonzero(data.source == "ptbxl")[:4])
        leaked = TaskData(
            **{
                **bad.__dict__,
                "split": np.array(["train", "val", "train", "val"]),
                "patient_ids": np.array([7, 7, 8, 9]),
            }
        )
        with pytest.raises(CardioScreenError, match="patient 7"):
            check_patient_wise(leaked)

    def test_fold_spec(self) -> None:
        with pytest.raises(CardioScreenError, match="overlap"):
            FoldSpec(train=(1, 2, 9), val=(9,))
        assert FoldSpec().split_of(np.array([1, 9, 10])).tolist() == ["train", "val", "test"]
