"""R-peak detection on real records against reference annotations, and its robustness properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import wfdb
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.io import loadmat
from scipy.signal.windows import tukey

from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.signal.peak_candidates import _block_stat, _lead_energy, _median
from cardioscreen.signal.peak_select import running_quantile
from cardioscreen.signal.peaks import PeakConfig, PeakScore, ecg_peaks, match_peaks

BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
MITDB_RECORDS = ("100", "101", "103", "105", "106", "108", "114", "119", "121", "124")
# CPSC 2019 files the rule detector (method "rules", whose verdict gives the default verifier its context) used
# to get wrong (or, 01068, that an earlier change broke): small beats beside large ectopic ones (00502, 01068,
# 01384, 01915), the last beat of a record missed (00676, 00980), a QRS cut by the record's edge reported (00320,
# 01224, 01714).
CPSC_CLEAN = ("00320", "00502", "00676", "00980", "01068", "01224", "01384", "01714", "01915")
# Files left with a few errors, and at most how many (reference, then detection, count): one-sample 32 mV
# spikes and baseline steps (00224, was 10), T waves as large as the QRS (00513, was 9; 01849, was 5).
CPSC_HARD = {"00224": 3, "00513": 4, "01849": 1}


def _mitdb(shared_data: Path, name: str, seconds: float | None) -> tuple[np.ndarray, float, np.ndarray]:
    path = str(shared_data / "mitdb" / name)
    sampto = None if seconds is None else int(seconds * 360)
    record = wfdb.rdrecord(path, sampto=sampto)
    ann = wfdb.rdann(path, "atr", sampto=sampto)
    beats = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in BEAT_SYMBOLS])
    return record.p_signal.T.astype(np.float32), float(record.fs), beats


@pytest.fixture(scope="module")
def ptbxl_record(ptbxl_dir: Path) -> tuple[np.ndarray, float]:
    record = read_ecg(ptbxl_dir / "records500" / "00000" / "00001_hr.hea")
    return record.signal, record.fs


def _cpsc(shared_data: Path, number: str) -> tuple[np.ndarray, np.ndarray]:
    folder = shared_data / "cpsc2019"
    sig = loadmat(folder / "data" / f"data_{number}.mat")["ecg"].ravel()
    return sig, loadmat(folder / "ref" / f"R_{number}.mat")["R_peak"].ravel()


def _close(a: np.ndarray, b: np.ndarray, tolerance: int) -> bool:
    return len(a) == len(b) and bool(np.all(np.abs(a - b) <= tolerance))


class TestMatchPeaks:
    def test_counts(self) -> None:
        score = match_peaks(np.array([100, 300, 500, 700]), np.array([105, 290, 640, 900]), tolerance=20)
        assert (score.tp, score.fn, score.fp) == (2, 2, 2)
        assert score.sensitivity == pytest.approx(0.5) and score.ppv == pytest.approx(0.5)

    def test_one_to_one(self) -> None:
        score = match_peaks(np.array([100, 200]), np.array([190]), tolerance=150)
        assert (score.tp, score.fn, score.fp) == (1, 1, 0)
        assert score + PeakScore(1, 0, 0) == PeakScore(2, 1, 0)


class TestRealRecords:
    @pytest.mark.parametrize("name", MITDB_RECORDS)
    def test_mitdb_first_five_minutes(self, shared_data: Path, name: str) -> None:
        sig, fs, ref = _mitdb(shared_data, name, 300)
        peaks, info = ecg_peaks(sig, fs)
        score = match_peaks(ref, peaks, int(0.15 * fs))
        assert score.sensitivity >= 0.99 and score.ppv >= 0.98, (name, score)
        assert info["fs"] == fs and info["method"] == "default" and len(info["weights"]) == 2

    def test_mitdb_whole_record(self, shared_data: Path) -> None:
        sig, fs, ref = _mitdb(shared_data, "119", None)
        peaks, _ = ecg_peaks(sig, fs)
        assert peaks.dtype == np.int64 and np.all(np.diff(peaks) > 0)
        score = match_peaks(ref, peaks, int(0.15 * fs))
        assert score.sensitivity >= 0.995 and score.ppv >= 0.995, score

    @pytest.mark.parametrize(("method", "least_f1"), [("default", 0.99), ("rules", 0.965)])
    def test_cpsc2019(self, shared_data: Path, method: str, least_f1: float) -> None:
        """The shipped verifier was fitted on these records, so its figure is in-sample (a regression check; the
        honest, cross-validated figure is printed by ``bench/peaks.py``)."""
        total = PeakScore(0, 0, 0)
        for path in sorted((shared_data / "cpsc2019" / "data").glob("data_*.mat")):
            sig, ref = _cpsc(shared_data, path.stem.split("_")[1])
            total += match_peaks(ref, ecg_peaks(sig, 500.0, method=method)[0], int(0.15 * 500))
        assert total.tp + total.fn > 700
        assert total.f1 >= least_f1, total

    @pytest.mark.parametrize("number", CPSC_CLEAN)
    def test_cpsc2019_fixed_files(self, shared_data: Path, number: str) -> None:
        sig, ref = _cpsc(shared_data, number)
        score = match_peaks(ref, ecg_peaks(sig, 500.0, method="rules")[0], int(0.15 * 500))
        assert score.fn == 0 and score.fp == 0, score

    @pytest.mark.parametrize("number", sorted(CPSC_HARD))
    def test_cpsc2019_hard_files(self, shared_data: Path, number: str) -> None:
        sig, ref = _cpsc(shared_data, number)
        score = match_peaks(ref, ecg_peaks(sig, 500.0, method="rules")[0], int(0.15 * 500))
        assert score.fn + score.fp <= CPSC_HARD[number], score

    def test_ptbxl_bradycardia_tall_t_waves(self, ptbxl_dir: Path) -> None:
        """30 bpm with T waves half the height of the R waves and clear P waves: only the five QRS complexes."""
        record = read_ecg(ptbxl_dir / "records500" / "00000" / "00191_hr.hea")
        peaks, _ = ecg_peaks(record.signal, record.fs)
        assert len(peaks) == 5 and np.all(np.diff(peaks) > 1.8 * record.fs), peaks

    def test_ludb_lead_ii_annotations(self, shared_data: Path) -> None:
        total = PeakScore(0, 0, 0)
        errors = []
        for hea in sorted((shared_data / "ludb").glob("*.hea"))[:25]:
            record = read_ecg(hea)
            ann = wfdb.rdann(str(hea.with_suffix("")), "ii")
            ref = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym == "N"])
            peaks, _ = ecg_peaks(record.signal, record.fs)
            peaks = peaks[(peaks >= ref[0] - 50) & (peaks <= ref[-1] + 50)]
            total += match_peaks(ref, peaks, int(0.15 * record.fs))
            nearest = peaks[np.clip(np.searchsorted(peaks, ref), 0, len(peaks) - 1)]
            errors.append(np.abs(nearest - ref))
        assert total.sensitivity >= 0.99 and total.ppv >= 0.99, total
        assert np.median(np.concatenate(errors)) <= 0.01 * 500

    def test_ptbxl_100hz(self, ptbxl_dir: Path) -> None:
        fast = read_ecg(ptbxl_dir / "records100" / "00000" / "00001_lr.hea")
        slow = read_ecg(ptbxl_dir / "records500" / "00000" / "00001_hr.hea")
        peaks100, _ = ecg_peaks(fast.signal, fast.fs)
        peaks500, _ = ecg_peaks(slow.signal, slow.fs)
        assert _close(peaks100 * 5, peaks500, tolerance=10)


class TestRobustness:
    def test_inverted_leads(self, ptbxl_record: tuple[np.ndarray, float]) -> None:
        sig, fs = ptbxl_record
        peaks, info = ecg_peaks(sig, fs)
        assert len(peaks) == 11
        for lead in (info["refine_lead"], 0, 6):
            flipped = sig.copy()
            flipped[lead] *= -1
            assert np.array_equal(ecg_peaks(flipped, fs)[0], peaks)
        assert np.array_equal(ecg_peaks(-sig, fs)[0], peaks)

    def test_flat_lead(self, ptbxl_record: tuple[np.ndarray, float]) -> None:
        sig, fs = ptbxl_record
        peaks, info = ecg_peaks(sig, fs)
        damaged = sig.copy()
        damaged[info["refine_lead"]] = 0.0
        found, damaged_info = ecg_peaks(damaged, fs)
        assert info["refine_lead"] not in damaged_info["leads_used"]
        assert _close(found, peaks, tolerance=int(0.03 * fs))

    def test_noisy_lead(self, ptbxl_record: tuple[np.ndarray, float]) -> None:
        sig, fs = ptbxl_record
        peaks, _ = ecg_peaks(sig, fs)
        noisy = sig.copy()
        noisy[1] += np.random.default_rng(0).normal(0, 1.0, sig.shape[1]).astype(np.float32)
        found, info = ecg_peaks(noisy, fs)
        assert _close(found, peaks, tolerance=int(0.03 * fs))
        assert info["weights"][1] < 0.05

    def test_one_sample_spikes(self, ptbxl_record: tuple[np.ndarray, float]) -> None:
        """Saturating one-sample glitches (30 mV, every lead) neither add beats nor move the R-peaks."""
        sig, fs = ptbxl_record
        peaks, _ = ecg_peaks(sig, fs)
        spiked = sig.copy()
        spiked[:, np.random.default_rng(1).integers(0, sig.shape[1], 25)] = 30.0
        assert np.array_equal(ecg_peaks(spiked, fs)[0], peaks)

    def test_single_lead_and_fifteen_leads(self, shared_data: Path) -> None:
        record = wfdb.rdrecord(str(shared_data / "challenge" / "ptb-diagnostic" / "S0001"), sampto=20_000)
        sig = record.p_signal.T
        all_leads, info = ecg_peaks(sig, record.fs)
        assert len(info["weights"]) == sig.shape[0]
        one_lead, _ = ecg_peaks(sig[1], record.fs)
        assert len(all_leads) >= 15 and _close(one_lead, all_leads, tolerance=int(0.03 * record.fs))

    @pytest.mark.parametrize("bpm", [30, 250])
    def test_extreme_heart_rates(self, ptbxl_record: tuple[np.ndarray, float], bpm: int) -> None:
        """Beat trains built from the record's own beats: padded with baseline (30 bpm) or cut to QRS-ST (250)."""
        sig, fs = ptbxl_record
        r_peaks, _ = ecg_peaks(sig, fs)
        rr = int(round(60 * fs / bpm))
        pre = int(0.25 * fs) if bpm < 100 else int(0.08 * fs)
        length = min(rr, int(0.7 * fs))
        pieces, truth = [], []
        for r in np.tile(r_peaks[1:-1], 4)[: 40 if bpm > 100 else 12]:
            beat = sig[:, r - pre : r - pre + length]
            piece = np.concatenate([beat, np.repeat(beat[:, -1:], rr - length, axis=1)], axis=1)
            truth.append(sum(p.shape[1] for p in pieces) + pre)
            pieces.append(piece)
        train = np.concatenate(pieces, axis=1)
        found, _ = ecg_peaks(train, fs)
        assert _close(found, np.array(truth), tolerance=int(0.02 * fs)), (bpm, len(found), len(truth))


class TestProperties:
    @settings(max_examples=40, deadline=None)
    @given(leads=st.integers(1, 4), seconds=st.floats(0.5, 8.0),
           fs=st.sampled_from([50.0, 100.0, 257.0, 500.0, 1000.0]), scale=st.floats(1e-4, 1e3),
           seed=st.integers(0, 2**16))
    def test_any_finite_signal(self, leads: int, seconds: float, fs: float, scale: float, seed: int) -> None:
        sig = scale * np.random.default_rng(seed).standard_normal((leads, int(seconds * fs)))
        peaks, info = ecg_peaks(sig, fs)
        assert peaks.dtype == np.int64 and np.all(np.diff(peaks) > 0)
        edge = int(round(PeakConfig().edge_s * fs))
        assert len(peaks) == 0 or (peaks[0] >= edge and peaks[-1] < sig.shape[1] - edge)
        assert len(info["weights"]) == leads


    @settings(max_examples=60, deadline=None)
    @given(values=st.lists(st.floats(-1e3, 1e3), max_size=40), size=st.sampled_from([1, 3, 9, 15]),
           q=st.sampled_from([0.25, 0.5, 0.75]))
    def test_running_quantile_shrinks_at_the_ends(self, values: list[float], size: int, q: float) -> None:
        x = np.array(values)
        half = size // 2
        expected = [np.quantile(x[max(i - half, 0) : i + half + 1], q) for i in range(len(x))]
        np.testing.assert_allclose(running_quantile(x, size, q), expected, rtol=1e-12, atol=1e-9)

    def test_running_quantile_long_series(self) -> None:
        x = np.random.default_rng(3).standard_normal(700)
        expected = [np.quantile(x[max(i - 4, 0) : i + 5], 0.75) for i in range(len(x))]
        np.testing.assert_allclose(running_quantile(x, 9, 0.75), expected, rtol=1e-12, atol=1e-12)


class TestFastPaths:
    """The detector's own versions of SciPy and NumPy routines give exactly their results."""

    def test_a_non_finite_lead_keeps_to_itself(self, ptbxl_record: tuple[np.ndarray, float]) -> None:
        x = np.asarray(ptbxl_record[0][:, ::3], dtype=np.float64)
        clean_energy, _, _ = _lead_energy(x, 500 / 3, PeakConfig())
        x[4, 100] = np.inf
        energy, _, _ = _lead_energy(x, 500 / 3, PeakConfig())
        assert not np.isfinite(energy[4]).all()
        np.testing.assert_array_equal(np.delete(energy, 4, axis=0), np.delete(clean_energy, 4, axis=0))

    @settings(max_examples=60, deadline=None)
    @given(rows=st.integers(1, 4), n=st.integers(1, 90), seed=st.integers(0, 2**16))
    def test_median_is_numpy_median(self, rows: int, n: int, seed: int) -> None:
        x = np.random.default_rng(seed).standard_normal((rows, n)).round(1)  # rounding makes ties
        assert np.array_equal(_median(x), np.median(x, axis=-1))

    @settings(max_examples=60, deadline=None)
    @given(n=st.integers(1, 200), block=st.integers(1, 60), seed=st.integers(0, 2**16))
    def test_block_stat_joins_the_tail_to_the_last_block(self, n: int, block: int, seed: int) -> None:
        x = np.random.default_rng(seed).standard_normal((2, n))
        starts = list(range(0, max(n // block, 1) * block, block))
        expected = np.stack([x[:, a:b].max(axis=-1) for a, b in zip(starts, [*starts[1:], n], strict=True)], axis=1)
        assert np.array_equal(_block_stat(x, block, np.max), expected)


class TestInterface:
    def test_flat_record_has_no_peaks(self) -> None:
        peaks, info = ecg_peaks(np.zeros((12, 5000)), 500.0)
        assert len(peaks) == 0 and info["leads_used"] == []

    def test_one_beat_on_a_constant_baseline(self, ptbxl_record: tuple[np.ndarray, float]) -> None:
        """2.5 s of a real record faded to its baseline except around its middle beat: that beat is found (the
        envelope's running mean went a rounding error below 0 on the constant stretches, and its root was NaN)."""
        sig, fs = ptbxl_record
        x = sig[:, : int(2.5 * fs)].astype(np.float64)
        middle = int(ecg_peaks(x, fs)[0][1])
        keep = np.zeros(x.shape[-1])
        keep[middle - 200 : middle + 250] = tukey(450, 0.3)
        baseline = np.median(x, axis=1, keepdims=True)
        peaks, _ = ecg_peaks(baseline + (x - baseline) * keep, fs)
        assert len(peaks) == 1 and abs(int(peaks[0]) - middle) <= 5, peaks

    @pytest.mark.parametrize("leads", [1, 12])
    def test_fewer_samples_than_the_decimation_factor(self, leads: int) -> None:
        for method in ("default", "rules"):
            peaks, _ = ecg_peaks(np.ones((leads, 2)), 1000.0, method=method)
            assert len(peaks) == 0

    def test_unknown_method_lists_methods(self, ptbxl_record: tuple[np.ndarray, float]) -> None:
        with pytest.raises(CardioScreenError, match="default, rules, neurokit"):
            ecg_peaks(ptbxl_record[0], ptbxl_record[1], method="pan")

    def test_neurokit_method(self, ptbxl_record: tuple[np.ndarray, float]) -> None:
        sig, fs = ptbxl_record
        theirs, info = ecg_peaks(sig, fs, method="neurokit")
        assert info["method"] == "neurokit"
        score = match_peaks(ecg_peaks(sig, fs)[0], theirs, int(0.05 * fs))
        assert score.fp == 0 and score.fn <= 1, score

    def test_config_is_validated(self) -> None:
        with pytest.raises(CardioScreenError):
            PeakConfig(threshold=1.5)
        with pytest.raises(CardioScreenError):
            PeakConfig(band_hz=(20.0, 5.0))
        with pytest.raises(CardioScreenError, match="beat_quantile"):
            PeakConfig(beat_quantile=1.0)
        with pytest.raises(CardioScreenError, match="edge_s"):
            PeakConfig(edge_s=-0.1)
