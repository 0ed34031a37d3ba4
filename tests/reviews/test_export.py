"""Reviewed records written in PTB-XL layout: labels from verdicts (unreviewed classes masked), pseudonymised
patient-wise folds, WFDB at 500 Hz (other rates resampled and noted), read back by the training and evaluation
readers unchanged."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.record import ECGRecord
from cardioscreen.reviews.export import ECG_ID_OFFSET, ReviewedRecord, export_key, pseudonym, write_ptbxl
from cardioscreen.reviews.labels import SCP_STATEMENTS, result_statements, review_labels
from cardioscreen.training.data import FoldSpec, load_training_data

WHEN = datetime(2027, 1, 5, 10, 0, tzinfo=timezone.utc)
KEY = bytes(range(32))


def _record(ptbxl_dir: Path, ecg_id: int) -> ECGRecord:
    return read_ecg(PTBXL.load(ptbxl_dir).record_path(ecg_id, 500).with_suffix(".hea"))


def test_review_labels() -> None:
    statements = {"NORM", "IMI", "ASMI", "LVH"}
    scp, verdicts = review_labels([("IMI", True), ("NORM", False), ("MI", True), ("LVH", True)], statements)
    assert scp == {"IMI": 100.0, "LVH": 100.0}  # a superclass is not an SCP statement
    assert verdicts == {"IMI": 1, "LVH": 1, "MI": 1, "NORM": 0}


def test_result_statements() -> None:
    result = {"rhythm": {"code": "AFIB"}, "interpretation": {"statements": [
        {"code": "IMI"}, {"code": "NOINTERP"}, {"code": "LVH"}]}}
    assert result_statements(result) == {"AFIB", "IMI", "LVH"}  # our own codes are not SCP statements
    assert result_statements({"rhythm": None, "interpretation": None}) == set()
    assert {"SR", "AFIB", "NORM", "IMI"} <= SCP_STATEMENTS and len(SCP_STATEMENTS) == 71


@pytest.fixture(scope="module")
def export(ptbxl_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Four reviewed studies of three patients: one recorded at 250 Hz, one 20 s long, one only 4 s long."""
    one, two, three, four = (_record(ptbxl_dir, i) for i in (1, 2, 3, 4))
    slow = one.resample(250)
    long = ECGRecord(signal=np.concatenate([two.signal, two.signal], axis=1), fs=two.fs, leads=two.leads)
    short = ECGRecord(signal=four.signal[:, :2000], fs=four.fs, leads=four.leads)
    records = [
        ReviewedRecord(11, "user:7", slow, {"NORM": True}, WHEN, "abc", age=56.0, sex="F"),
        ReviewedRecord(12, "user:7", long, {"NORM": False, "IMI": True}, WHEN, "abc"),
        ReviewedRecord(13, "user:8", three, {"LVH": False, "MI": True, "SR": True, "AFIB": False}, WHEN, "def",
                       sex="M"),
        ReviewedRecord(14, "user:9", short, {"NORM": True}, WHEN),
    ]
    out = tmp_path_factory.mktemp("reviews") / "export"
    summary = write_ptbxl(records, out, KEY)
    return out, {"summary": summary, "records": (slow, long, three)}


class TestExport:
    def test_summary(self, export: tuple[Path, dict]) -> None:
        summary = export[1]["summary"]
        assert summary.n_records == 3 and summary.n_patients == 2
        assert summary.noted == {11: "resampled from 250 Hz", 12: "first 10 s of 20.0 s"}
        assert list(summary.skipped) == [14] and "4.0 s long" in summary.skipped[14]

    def test_table_and_pseudonyms(self, export: tuple[Path, dict]) -> None:
        dataset = PTBXL.load(export[0])
        assert list(dataset.ecg_ids) == [ECG_ID_OFFSET + i for i in (11, 12, 13)]
        patients, folds = dataset.patient_ids, dataset.folds
        assert patients[0] == patients[1] != patients[2] and folds[0] == folds[1]  # patient-wise
        assert (patients[0], folds[0]) == pseudonym(KEY, "user:7") and patients[0] != 7
        assert pseudonym(bytes(32), "user:7") != pseudonym(KEY, "user:7")
        assert dataset.meta["scp_codes"].tolist() == [{"NORM": 100.0}, {"IMI": 100.0}, {"SR": 100.0}]
        rhythm = dataset.labels("rhythm", ["AFIB", "SR", "STACH"])  # accepted and rejected statements are labels
        assert rhythm.mask[2].tolist() == [True, True, False] and rhythm.y[2].tolist() == [0, 1, 0]
        assert dataset.meta["sex"].tolist()[0] == 1 and dataset.meta["model_version"].tolist()[0] == "abc"

    def test_signals_at_500_hz(self, export: tuple[Path, dict], ptbxl_dir: Path) -> None:
        dataset = PTBXL.load(export[0])
        slow, long, three = export[1]["records"]
        for ecg_id, source in zip(dataset.ecg_ids, (slow.resample(500), long, three), strict=True):
            signal = dataset.read_signal(int(ecg_id), 500)
            assert signal.shape == (12, 5000)
            assert np.abs(signal - source.to_standard12().signal[:, :5000]).max() < 0.01  # mV, 16-bit WFDB

    def test_unreviewed_classes_are_masked(self, export: tuple[Path, dict]) -> None:
        dataset = PTBXL.load(export[0])
        seed = dataset.labels("seed17")
        col = {c: j for j, c in enumerate(seed.classes)}
        assert seed.mask.sum(axis=1).tolist() == [1, 2, 1]
        assert seed.mask[0, col["NORM"]] and seed.y[0, col["NORM"]] == 1
        assert seed.mask[1, col["NORM"]] and seed.y[1, col["NORM"]] == 0 and seed.y[1, col["IMI"]] == 1
        assert seed.mask[2, col["LVH"]] and seed.y[2, col["LVH"]] == 0 and not seed.mask[2, col["IMI"]]
        sup = dataset.labels("superdiagnostic")
        scol = {c: j for j, c in enumerate(sup.classes)}
        # IMI confirmed makes MI positive; the verdict on the superclass MI itself counts; nothing else is known
        assert sup.y[1, scol["MI"]] == 1 and sup.mask[1].sum() == 2  # MI (from IMI) and NORM (rejected)
        assert sup.y[2, scol["MI"]] == 1 and sup.mask[2].tolist() == [c == "MI" for c in sup.classes]

    def test_training_reader(self, export: tuple[Path, dict], tmp_path: Path) -> None:
        folds = FoldSpec(train=tuple(range(1, 11)), val=(), test=())
        data = load_training_data(export[0], ("seed17", "superdiagnostic"), folds=folds, cache_dir=tmp_path)
        assert data.x.shape == (3, 12, 1000) and data.mask.sum() == 1 + 2 + 1 + 1 + 2 + 1

    def test_nothing_to_export(self, ptbxl_dir: Path, tmp_path: Path) -> None:
        short = ECGRecord(signal=np.zeros((12, 1500), np.float32), fs=500.0, leads=_record(ptbxl_dir, 1).leads)
        with pytest.raises(CardioScreenError, match="no reviewed study could be exported"):
            write_ptbxl([ReviewedRecord(1, "user:1", short, {"NORM": True}, WHEN)], tmp_path / "out", KEY)


def test_export_key_is_kept_private(tmp_path: Path) -> None:
    key = export_key(tmp_path / "key")
    assert len(key) == 32 and export_key(tmp_path / "key") == key
    assert (tmp_path / "key").stat().st_mode & 0o777 == 0o600
