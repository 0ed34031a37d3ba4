"""PTB-XL loader on the real shared subset: labels of known records, patient-wise folds, cache equals direct reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

from cardioscreen.datasets.labels import SEED17, SUPERCLASSES, TASKS
from cardioscreen.datasets.preprocess import resample
from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.errors import CardioScreenError


@pytest.fixture(scope="module")
def ptbxl(ptbxl_dir: Path) -> PTBXL:
    return PTBXL.load(ptbxl_dir)


def _row(ptbxl: PTBXL, task: str, ecg_id: int) -> set[str]:
    labels = ptbxl.labels(task)
    row = labels.y[list(ptbxl.ecg_ids).index(ecg_id)]
    return {name for name, value in zip(labels.classes, row, strict=True) if value}


class TestLabels:
    def test_known_records(self, ptbxl: PTBXL) -> None:
        # ptbxl_database.csv: record 1 {'NORM': 100, 'LVOLT': 0, 'SR': 0}; record 8 {'IMI': 35, 'ABQRS': 0, 'SR': 0}
        assert _row(ptbxl, "seed17", 1) == {"NORM"}
        assert _row(ptbxl, "seed17", 8) == {"IMI"}
        assert _row(ptbxl, "superdiagnostic", 1) == {"NORM"}
        assert _row(ptbxl, "superdiagnostic", 8) == {"MI"}
        assert _row(ptbxl, "subdiagnostic", 8) == {"IMI"}
        assert _row(ptbxl, "diagnostic", 8) == {"IMI"}
        assert _row(ptbxl, "form", 8) == {"ABQRS"}
        assert _row(ptbxl, "form", 1) == {"LVOLT"}
        assert _row(ptbxl, "rhythm", 8) == {"SR"}
        assert _row(ptbxl, "all", 8) == {"IMI", "ABQRS", "SR"}

    def test_seed17_columns_fixed(self, ptbxl: PTBXL) -> None:
        labels = ptbxl.labels("seed17")
        assert labels.classes == SEED17
        assert labels.y.shape == (len(ptbxl), 17)

    def test_benchmark_aggregation_matches_statements(self, ptbxl: PTBXL) -> None:
        # Independent re-computation from the CSVs: a record is MI iff one of its codes has diagnostic_class MI.
        statements = pd.read_csv(ptbxl.root / "scp_statements.csv", index_col=0)
        diag = statements[statements.diagnostic == 1.0]
        labels = ptbxl.labels("superdiagnostic")
        assert set(labels.classes) <= set(SUPERCLASSES)
        for j, name in enumerate(labels.classes):
            expected = [
                any(c in diag.index and diag.loc[c, "diagnostic_class"] == name for c in codes)
                for codes in ptbxl.meta["scp_codes"]
            ]
            np.testing.assert_array_equal(labels.y[:, j].astype(bool), expected)

    def test_classes_are_those_present(self, ptbxl: PTBXL) -> None:
        for task in TASKS:
            labels = ptbxl.labels(task)
            if task != "seed17":
                assert (labels.y.sum(axis=0) > 0).all(), task
                assert list(labels.classes) == sorted(labels.classes)

    def test_fixed_classes_for_subset(self, ptbxl: PTBXL) -> None:
        classes = ptbxl.labels("diagnostic").classes
        sub = ptbxl.in_folds([9]).labels("diagnostic", classes)
        assert sub.classes == classes

    def test_unknown_task(self, ptbxl: PTBXL) -> None:
        with pytest.raises(CardioScreenError, match="superdiagnostic"):
            ptbxl.labels("nonsense")


class TestFolds:
    def test_patients_never_cross_folds(self, ptbxl: PTBXL) -> None:
        folds_per_patient = pd.Series(ptbxl.folds).groupby(ptbxl.patient_ids).nunique()
        assert folds_per_patient.max() == 1

    def test_in_folds(self, ptbxl: PTBXL) -> None:
        val = ptbxl.in_folds([9])
        assert len(val) > 0 and set(val.folds) == {9}
        assert len(ptbxl.in_folds(range(1, 9))) + len(val) == len(ptbxl)  # the subset holds folds 1-9

    def test_not_a_ptbxl_folder(self, tmp_path: Path) -> None:
        with pytest.raises(CardioScreenError, match="ptbxl_database.csv"):
            PTBXL.load(tmp_path)


class TestSignals:
    def test_read_signal_matches_wfdb(self, ptbxl: PTBXL) -> None:
        x = ptbxl.read_signal(8, 500)
        direct, fields = wfdb.rdsamp(str(ptbxl.root / "records500/00000/00008_hr"))
        assert x.shape == (12, 5000) and x.dtype == np.float32
        assert fields["sig_name"][0] == "I" and fields["sig_name"][6] == "V1"
        np.testing.assert_allclose(x, direct.T, atol=1e-6)

    def test_100hz_derived_from_500hz_where_absent(self, ptbxl: PTBXL) -> None:
        flac_only = [i for i in ptbxl.ecg_ids if not ptbxl.record_path(int(i), 100).with_suffix(".hea").is_file()]
        assert len(flac_only) > 2000  # the shared subset: most records have only records500/
        derived = ptbxl.read_signal(int(flac_only[0]), 100)
        high = ptbxl.read_signal(int(flac_only[0]), 500)
        assert derived.shape == (12, 1000) and derived.dtype == np.float32
        for lead in range(12):  # the same waveform, lead by lead
            assert np.corrcoef(derived[lead], high[lead, ::5])[0, 1] > 0.98
        # where both files exist, the derived signal stays close to PTB-XL's own 100 Hz file
        official = ptbxl.read_signal(1, 100)
        resampled = resample(ptbxl.read_signal(1, 500).astype(np.float64), 500, 100)
        assert np.abs(official - resampled).mean() < 0.02

    def test_cache_equals_direct_reads(self, ptbxl: PTBXL, tmp_path: Path) -> None:
        sub = ptbxl.in_folds([9])
        cached = sub.signals(100, cache_dir=tmp_path)
        assert cached.shape == (len(sub), 12, 1000)
        for row in (0, len(sub) // 2, len(sub) - 1):
            np.testing.assert_array_equal(cached[row], sub.read_signal(int(sub.ecg_ids[row]), 100))
        assert (tmp_path / "signals_100.npy").is_file()
        again = ptbxl.signals(100, cache_dir=tmp_path)  # the whole folder: the store itself, memory-mapped
        assert isinstance(again, np.memmap) and again.shape[0] == len(ptbxl)
