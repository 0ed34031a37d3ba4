"""Rhythm features on synthetic RR series and against neurokit2 on MIT-BIH reference beats."""

from __future__ import annotations

from pathlib import Path

import neurokit2 as nk
import numpy as np
import pytest
import wfdb

from cardioscreen.features import RHYTHM_FEATURES, record_features, rhythm_features
from cardioscreen.features.time_freq import lead_statistics

BEAT_SYMBOLS = set("NLRBAaJSVrFejnE/fQ?")


def _as_dict(values: np.ndarray, names: list[str]) -> dict[str, float]:
    return dict(zip(names, values.tolist(), strict=True))


class TestRhythmFeatures:
    def test_regular_rhythm(self) -> None:
        peaks = np.arange(12) * 400 + 100  # 0.8 s at 500 Hz
        got = _as_dict(*rhythm_features(peaks, 500.0))
        assert got["hr_mean_bpm"] == pytest.approx(75.0)
        assert got["rr_mean_ms"] == pytest.approx(800.0)
        assert got["sdnn_ms"] == got["rmssd_ms"] == got["pnn50"] == got["rr_cv"] == 0.0

    def test_alternating_rr(self) -> None:
        rr = np.tile([400, 450], 10)  # 800 / 900 ms at 500 Hz
        got = _as_dict(*rhythm_features(np.concatenate([[0], np.cumsum(rr)]), 500.0))
        assert got["rr_min_ms"] == 800.0 and got["rr_max_ms"] == 900.0
        assert got["rmssd_ms"] == pytest.approx(100.0)
        assert got["pnn50"] == 1.0
        assert got["sdnn_ms"] == pytest.approx(np.std(rr * 2.0, ddof=1))

    def test_too_few_peaks_give_nan(self) -> None:
        values, names = rhythm_features(np.array([10]), 360.0)
        assert names == list(RHYTHM_FEATURES) and np.isnan(values).all()
        got = _as_dict(*rhythm_features(np.array([10, 370]), 360.0))
        assert got["rr_mean_ms"] == pytest.approx(1000.0) and np.isnan(got["sdnn_ms"])

    def test_matches_neurokit2_on_mitbih(self, shared_data: Path) -> None:
        ann = wfdb.rdann(str(shared_data / "mitdb" / "100"), "atr", sampto=360 * 120)
        peaks = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in BEAT_SYMBOLS])
        got = _as_dict(*rhythm_features(peaks, 360.0))
        ref = nk.hrv_time(peaks, sampling_rate=360).iloc[0]
        n_rr = len(peaks) - 1
        assert got["rr_mean_ms"] == pytest.approx(ref["HRV_MeanNN"])
        assert got["sdnn_ms"] == pytest.approx(ref["HRV_SDNN"])
        assert got["rmssd_ms"] == pytest.approx(ref["HRV_RMSSD"])
        # pNN50 in exact integer arithmetic: |successive RR difference| > 50 ms, over the differences.
        ddiff = np.abs(np.diff(np.diff(peaks)))
        assert got["pnn50"] == pytest.approx(np.mean(ddiff * 1000 > 50 * 360))
        # neurokit2 divides NN50 by the number of intervals and, in floating point, may count
        # differences of exactly 50 ms (18 samples at 360 Hz) as larger.
        nk_nn50 = round(ref["HRV_pNN50"] / 100 * n_rr)
        assert np.sum(ddiff * 1000 > 50 * 360) <= nk_nn50 <= np.sum(ddiff * 1000 >= 50 * 360)
        assert 60 < got["hr_mean_bpm"] < 90


class TestRecordFeatures:
    def test_mean_over_beats_then_rhythm(self) -> None:
        rng = np.random.default_rng(0)
        beats = rng.normal(size=(9, 2, 300))
        peaks = np.arange(10) * 250
        values, names = record_features(beats, 500.0, ["II", "V1"], peaks, 500.0)
        assert len(names) == values.size == 2 * 22 + len(RHYTHM_FEATURES)
        np.testing.assert_allclose(values[:44], lead_statistics(beats, 500.0).mean(axis=0).ravel())
        assert names[44:] == list(RHYTHM_FEATURES)
        assert values[names.index("hr_mean_bpm")] == pytest.approx(120.0)

    def test_needs_a_beat(self) -> None:
        with pytest.raises(ValueError, match="at least one beat"):
            record_features(np.zeros((0, 12, 500)), 500.0, ["I"] * 12, np.arange(3), 500.0)
