"""Round trips: a real PTB-XL record written to WFDB, EDF, NumPy and CSV reads back within each format's
quantisation, and one record read through different formats gives the same signal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyedflib
import pytest
import wfdb

from cardioscreen.io import read_ecg, write_ecg
from cardioscreen.record import ECGRecord

RECORDS = {
    "500 Hz": ("ptbxl", "records500", "00000", "00001_hr"),
    "100 Hz": ("ptbxl", "records100", "00000", "00001_lr"),
    "challenge 4880/mV": ("challenge", "georgia", "E00015"),
}
FLOAT32_SLACK_MV = 1e-6
"""float32 rounding of samples of a few mV."""


@pytest.fixture(scope="module", params=list(RECORDS), ids=list(RECORDS))
def original(request, shared_data) -> ECGRecord:
    return read_ecg(shared_data.joinpath(*RECORDS[request.param]).with_suffix(".hea"))


def _wfdb_step_mv(header: Path) -> np.ndarray:
    return 1.0 / np.array(wfdb.rdheader(str(header.with_suffix(""))).adc_gain)


def _edf_step_mv(path: Path) -> np.ndarray:
    with pyedflib.EdfReader(str(path)) as edf:
        return np.array([
            (edf.getPhysicalMaximum(i) - edf.getPhysicalMinimum(i))
            / (edf.getDigitalMaximum(i) - edf.getDigitalMinimum(i)) / 1000.0
            for i in range(edf.signals_in_file)
        ])


class TestRoundTrip:
    def test_wfdb_within_half_a_step(self, original, tmp_path):
        header = write_ecg(original, tmp_path / "copy.hea")
        back = read_ecg(header)
        steps = _wfdb_step_mv(header)
        assert (back.fs, back.leads, back.n_samples) == (original.fs, original.leads, original.n_samples)
        assert (np.abs(back.signal - original.signal).max(axis=1) <= steps / 2 + FLOAT32_SLACK_MV).all()
        assert (steps <= 1e-3).all(), "writer should resolve at least 1 uV"

    def test_wfdb_keeps_challenge_labels(self, original, tmp_path):
        back = read_ecg(write_ecg(original, tmp_path / "labels.hea"))
        for key in ("age", "sex", "dx"):
            assert back.meta.get(key) == original.meta.get(key)

    def test_edf_within_half_a_step(self, original, tmp_path):
        path = write_ecg(original, tmp_path / "copy.edf")
        back = read_ecg(path)
        steps = _edf_step_mv(path)
        assert (back.fs, back.leads, back.n_samples) == (original.fs, original.leads, original.n_samples)
        assert (np.abs(back.signal - original.signal).max(axis=1) <= steps / 2 + FLOAT32_SLACK_MV).all()

    @pytest.mark.parametrize("name", ["copy.npy", "copy.npz"])
    def test_numpy_exact(self, original, tmp_path, name):
        back = read_ecg(write_ecg(original, tmp_path / name), fs=original.fs)
        assert back.leads == original.leads
        np.testing.assert_array_equal(back.signal, original.signal)

    def test_npz_needs_no_options(self, original, tmp_path):
        back = read_ecg(write_ecg(original, tmp_path / "copy.npz"))
        assert (back.fs, back.leads) == (original.fs, original.leads)

    def test_csv_within_a_nanovolt(self, original, tmp_path):
        back = read_ecg(write_ecg(original, tmp_path / "copy.csv", fmt="csv"))
        assert (back.fs, back.leads) == (original.fs, original.leads)
        np.testing.assert_allclose(back.signal, original.signal, atol=5e-7 + FLOAT32_SLACK_MV)

    def test_edf_length_kept_when_records_do_not_divide_a_second(self, original, tmp_path):
        odd = original.crop(0, (original.n_samples - 3) / original.fs)
        assert read_ecg(write_ecg(odd, tmp_path / "odd.edf")).n_samples == odd.n_samples


class TestSameSignalAcrossFormats:
    def test_every_format_reads_the_same_record(self, shared_data, tmp_path):
        source = read_ecg(shared_data.joinpath(*RECORDS["500 Hz"]).with_suffix(".hea"))
        paths = [write_ecg(source, tmp_path / name, fmt=fmt) for name, fmt in
                 (("w.hea", None), ("e.edf", None), ("n.npy", None), ("z.npz", None), ("c.csv", "csv"))]
        records = [read_ecg(path, fs=500) if path.suffix == ".npy" else read_ecg(path) for path in paths]
        assert len({r.meta["format"] for r in records}) == 4
        for record in records:
            assert (record.fs, record.leads) == (source.fs, source.leads)
            np.testing.assert_allclose(record.signal, records[0].signal, atol=2e-4)
