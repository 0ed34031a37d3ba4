"""ECG cleaning: frequency response (property checks) and behaviour on real records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.record import ECGRecord
from cardioscreen.signal.clean import CleanBand, clean_methods, ecg_clean
from cardioscreen.signal.peaks import ecg_peaks

FS = 500.0


def _tone(freq_hz: float, seconds: float = 60.0, fs: float = FS) -> np.ndarray:
    t = np.arange(int(seconds * fs)) / fs
    return np.sin(2 * np.pi * freq_hz * t)[None, :]


def _gain_db(freq_hz: float, method: str = "default", fs: float = FS, powerline_hz: float = 50.0) -> float:
    """Gain of ``ecg_clean`` at one frequency, measured on the middle of a long tone (edges excluded)."""
    x = _tone(freq_hz, fs=fs)
    y = ecg_clean(x, fs, method=method, powerline_hz=powerline_hz)
    middle = slice(x.shape[1] // 4, 3 * x.shape[1] // 4)
    return float(20 * np.log10(np.std(y[0, middle]) / np.std(x[0, middle])))


@pytest.fixture(scope="module")
def record(ptbxl_dir: Path) -> ECGRecord:
    return read_ecg(ptbxl_dir / "records500" / "00000" / "00001_hr.hea")


class TestFrequencyResponse:
    @pytest.mark.parametrize("freq_hz", [0.05, 0.1, 0.2])
    def test_high_pass_removes_energy_below_half_hertz(self, freq_hz: float) -> None:
        assert _gain_db(freq_hz) < -20

    @pytest.mark.parametrize("freq_hz", [2.0, 5.0, 10.0, 20.0])
    def test_qrs_band_passes(self, freq_hz: float) -> None:
        assert abs(_gain_db(freq_hz)) < 1.0

    def test_high_frequency_noise_removed(self) -> None:
        assert _gain_db(120.0) < -20

    @pytest.mark.parametrize("mains", [50.0, 60.0])
    def test_powerline_notch(self, mains: float) -> None:
        assert _gain_db(mains, method="baseline", powerline_hz=mains) < -20
        assert _gain_db(mains, powerline_hz=mains) < -30
        assert abs(_gain_db(mains - 10, method="baseline", powerline_hz=mains)) < 1.0

    def test_diagnostic_band_keeps_slow_st_changes(self) -> None:
        assert abs(_gain_db(0.5, method="diagnostic")) < 1.0 and abs(_gain_db(75.0, method="diagnostic")) < 1.0

    def test_low_sampling_rate(self) -> None:
        assert _gain_db(0.1, fs=100.0) < -20 and abs(_gain_db(10.0, fs=100.0)) < 1.0


class TestRealRecords:
    def test_shape_dtype_and_one_lead(self, record: ECGRecord) -> None:
        out = ecg_clean(record.signal, record.fs)
        assert out.shape == record.signal.shape and out.dtype == np.float32
        assert np.allclose(ecg_clean(record.signal[1], record.fs), out[1], atol=1e-6)

    def test_removes_baseline_and_hum_keeps_qrs(self, record: ECGRecord) -> None:
        t = np.arange(record.n_samples) / record.fs
        dirty = record.signal + 1.0 * np.sin(2 * np.pi * 0.15 * t) + 0.2 * np.sin(2 * np.pi * 50 * t)
        cleaned, reference = ecg_clean(dirty, record.fs), ecg_clean(record.signal, record.fs)
        inner = slice(int(record.fs), -int(record.fs))
        assert np.sqrt(np.mean((cleaned - reference)[:, inner] ** 2)) < 0.02
        assert np.corrcoef(cleaned[1, inner], record.signal[1, inner] - record.signal[1].mean())[0, 1] > 0.9

    def test_zero_phase_keeps_r_peaks_in_place(self, record: ECGRecord) -> None:
        raw, _ = ecg_peaks(record.signal, record.fs)
        cleaned, _ = ecg_peaks(ecg_clean(record.signal, record.fs), record.fs)
        assert len(raw) == len(cleaned) and np.all(np.abs(raw - cleaned) <= 2)

    def test_neurokit_method_agrees(self, record: ECGRecord) -> None:
        ours, theirs = ecg_clean(record.signal, record.fs, "baseline"), ecg_clean(record.signal, record.fs, "neurokit")
        inner = slice(int(record.fs), -int(record.fs))
        assert np.corrcoef(ours[:, inner].ravel(), theirs[:, inner].ravel())[0, 1] > 0.95


class TestErrors:
    def test_unknown_method_lists_methods(self) -> None:
        with pytest.raises(CardioScreenError, match=", ".join(clean_methods())):
            ecg_clean(np.zeros((1, 1000)), FS, method="wavelet")

    def test_bad_powerline(self) -> None:
        with pytest.raises(CardioScreenError, match="50 or 60"):
            ecg_clean(np.zeros((1, 1000)), FS, powerline_hz=55.0)

    def test_band_is_validated(self) -> None:
        with pytest.raises(CardioScreenError):
            CleanBand(40.0, 0.5)
