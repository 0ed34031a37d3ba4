"""The stack's hand-made features are cut around the record's measured R-peaks: the same ones for a file in
training and in the Analyzer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.ensemble.inputs import peaks_at, record_feature_matrix
from cardioscreen.ensemble.measurements import measured_r_peaks
from cardioscreen.features.aggregate import record_features
from cardioscreen.io import read_ecg
from cardioscreen.signal.beats import ecg_beats
from cardioscreen.signal.measure import measure_record
from cardioscreen.signal.peaks import ecg_peaks
from cardioscreen.training.data import TaskData, load_training_data

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


@pytest.fixture(scope="module")
def data(ptbxl_dir: Path, shared_data: Path) -> TaskData:
    return load_training_data(ptbxl_dir, ("superdiagnostic",), extra_dirs=(shared_data / "ptbxl-z100",),
                              max_records=6)


def test_peaks_move_to_the_input_rate_rounded_in_range_once() -> None:
    moved = peaks_at(np.array([0, 4, 5, 12, 13, 4999]), 500.0, 100.0, 1000)
    np.testing.assert_array_equal(moved, [0, 1, 2, 3, 999])
    assert moved.dtype == np.int64


def test_features_use_the_given_peaks_and_find_them_where_none(data: TaskData) -> None:
    x = data.x[:2]
    found = [ecg_peaks(record, 100.0)[0] for record in x]
    shifted = found[0][1:-1] + 3  # other beats than the detector's: the features must follow them
    features, names = record_feature_matrix(x, 100.0, LEADS, r_peaks=[shifted, None])
    beats, _ = ecg_beats(x[0], 100.0, shifted, n_samples=100)
    expected, expected_names = record_features(beats, 100.0, LEADS, shifted, 100.0)
    np.testing.assert_array_equal(features[0], expected)
    assert names == expected_names
    np.testing.assert_array_equal(features[1], record_feature_matrix(x[1:], 100.0, LEADS)[0][0])
    assert not np.array_equal(features[0], record_feature_matrix(x[:1], 100.0, LEADS)[0][0])
    with pytest.raises(ValueError, match="R-peaks of 1 records for 2 records"):
        record_feature_matrix(x, 100.0, LEADS, r_peaks=[shifted])


def test_training_peaks_are_the_analyzers_for_the_same_file(data: TaskData, ptbxl_dir: Path,
                                                            shared_data: Path) -> None:
    peaks = measured_r_peaks(data, (ptbxl_dir, shared_data / "ptbxl-z100"), 100.0)
    raw = np.flatnonzero(data.source == "ptbxl")
    assert len(peaks) == len(data) and raw.size and raw.size < len(data)
    assert all(peaks[i] is None for i in np.flatnonzero(data.source != "ptbxl"))
    ptbxl = PTBXL.load(ptbxl_dir)
    for i in raw[:3]:
        record = read_ecg(ptbxl.record_path(int(data.ecg_ids[i]), 500)).to_standard12()
        measured = measure_record(record)
        np.testing.assert_array_equal(peaks[i], peaks_at(measured.r_peaks, record.fs, 100.0, data.x.shape[-1]))
