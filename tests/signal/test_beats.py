"""Beat segmentation: shapes, the midpoint boundary rules, exact resampling, fixed windows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.record import ECGRecord
from cardioscreen.signal.beats import beat_modes, ecg_beats
from cardioscreen.signal.clean import ecg_clean
from cardioscreen.signal.peaks import ecg_peaks


@pytest.fixture(scope="module")
def record(ptbxl_dir: Path) -> ECGRecord:
    raw = read_ecg(ptbxl_dir / "records500" / "00000" / "00001_hr.hea")
    return raw.with_signal(ecg_clean(raw.signal, raw.fs))


class TestMidpoint:
    def test_shape_and_boundaries(self, record: ECGRecord) -> None:
        peaks, _ = ecg_peaks(record.signal, record.fs)
        beats, info = ecg_beats(record.signal, record.fs, peaks)
        assert beats.shape == (len(peaks), 12, 500) and beats.dtype == np.float32
        bounds = info["bounds"]
        assert bounds[0, 0] == 0 and bounds[-1, 1] == record.n_samples
        assert np.array_equal(bounds[1:, 0], bounds[:-1, 1])
        assert np.array_equal(bounds[1:, 0], (peaks[:-1] + peaks[1:] + 1) // 2)
        assert np.all((bounds[:, 0] <= peaks) & (peaks < bounds[:, 1]))
        assert np.array_equal(info["r_peaks"], peaks)

    def test_r_peak_lands_where_reported(self, record: ECGRecord) -> None:
        peaks, info = ecg_peaks(record.signal, record.fs)
        beats, beat_info = ecg_beats(record.signal, record.fs, peaks)
        lead = info["refine_lead"]
        at = np.round(beat_info["r_position"]).astype(int)
        extreme = np.abs(beats[:, lead, :]).argmax(axis=1)
        assert np.all(np.abs(extreme - at) <= 3)

    def test_beat_of_n_samples_is_copied_exactly(self) -> None:
        sig = np.random.default_rng(1).normal(size=(3, 1700)).astype(np.float32)
        beats, info = ecg_beats(sig, 500.0, np.array([250, 750, 1250]), n_samples=500)
        assert np.array_equal(info["bounds"], [[0, 500], [500, 1000], [1000, 1700]])
        assert np.array_equal(beats[0], sig[:, :500]) and np.array_equal(beats[1], sig[:, 500:1000])

    def test_linear_resampling(self) -> None:
        sig = np.random.default_rng(2).normal(size=(2, 1000))
        beats, _ = ecg_beats(sig, 250.0, np.array([100, 400, 900]), n_samples=64)
        start, stop = 250, 650
        positions = start + (stop - start) * np.arange(64) / 64
        expected = np.interp(positions, np.arange(1000), sig[1])
        assert np.allclose(beats[1, 1], expected, atol=1e-5)

    def test_one_and_no_peaks(self) -> None:
        sig = np.ones((2, 1000), dtype=np.float32)
        beats, info = ecg_beats(sig, 500.0, np.array([400]), n_samples=100)
        assert beats.shape == (1, 2, 100) and np.array_equal(info["bounds"], [[0, 1000]])
        empty, info = ecg_beats(sig, 500.0, np.array([], dtype=np.int64))
        assert empty.shape == (0, 2, 500) and info["bounds"].shape == (0, 2)


class TestWindow:
    def test_windows_centred_on_r(self, record: ECGRecord) -> None:
        peaks, _ = ecg_peaks(record.signal, record.fs)
        beats, info = ecg_beats(record.signal, record.fs, peaks, n_samples=350, mode="window", pre_s=0.25,
                                post_s=0.45)
        kept = info["r_peaks"]
        assert set(kept) <= set(peaks) and len(kept) >= len(peaks) - 2
        assert np.all(kept - 125 >= 0) and np.all(kept + 225 <= record.n_samples)
        assert beats.shape == (len(kept), 12, 350)
        assert np.array_equal(beats[0], record.signal[:, kept[0] - 125 : kept[0] + 225])
        assert np.allclose(info["r_position"], 125)


class TestErrors:
    def test_unknown_mode_lists_modes(self) -> None:
        with pytest.raises(CardioScreenError, match=", ".join(beat_modes())):
            ecg_beats(np.zeros((1, 1000)), 500.0, np.array([500]), mode="fixed")

    @pytest.mark.parametrize("peaks", [[500, 400], [-1, 500], [500, 1000], [300, 300]])
    def test_bad_peaks(self, peaks: list[int]) -> None:
        with pytest.raises(CardioScreenError, match="r_peaks"):
            ecg_beats(np.zeros((1, 1000)), 500.0, np.array(peaks))
