"""Delineation on real LUDB records against the cardiologists' marks."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.record import ECGRecord
from cardioscreen.signal.delineate import FIDUCIALS, Delineation, ecg_delineate
from cardioscreen.signal.delineation import learned
from cardioscreen.signal.delineation.dsp import _moving_mean, _run_below, delineate_dsp
from cardioscreen.signal.delineation.fiducials import cut_windows, median, nanmedian
from cardioscreen.signal.delineation.pacing import SPIKE_BLANK_S, pacing_spikes
from cardioscreen.signal.delineation.reference import read_ludb_marks
from cardioscreen.signal.delineation.segments import fiducials_from_labels
from cardioscreen.signal.peaks import ecg_peaks


@pytest.fixture(scope="module")
def ludb(shared_data: Path) -> Path:
    return shared_data / "ludb"


def _load(ludb: Path, rec_id: int) -> tuple[ECGRecord, np.ndarray, np.ndarray]:
    rec = read_ecg(ludb / f"{rec_id}.hea", standard12=True)
    peaks, _ = ecg_peaks(rec.signal, rec.fs)
    _, ref = read_ludb_marks(ludb / str(rec_id))
    return rec, peaks, ref


def _errors_ms(d: Delineation, ref: np.ndarray, name: str, fs: float) -> np.ndarray:
    """Per reference beat, detected - reference (ms) for the nearest detected beat (by R-peak)."""
    col = FIDUCIALS.index(name)
    qrs_centre = (ref[:, FIDUCIALS.index("qrs_on")] + ref[:, FIDUCIALS.index("qrs_off")]) / 2
    out = []
    for centre, value in zip(qrs_centre, ref[:, col], strict=True):
        j = int(np.argmin(np.abs(d.r_peaks - centre)))
        if np.isfinite(value) and abs(d.r_peaks[j] - centre) < 0.1 * fs:
            out.append((d.fiducials[j, col] - value) * 1000.0 / fs)
    return np.asarray(out)


class TestDelineateSinus:
    @pytest.mark.parametrize("rec_id", [1, 3, 11])
    def test_boundaries_near_cardiologists_marks(self, ludb: Path, rec_id: int) -> None:
        rec, peaks, ref = _load(ludb, rec_id)
        d = ecg_delineate(rec.signal, rec.fs, peaks)
        assert d.per_lead.shape == (peaks.size, 12, len(FIDUCIALS))
        assert d.fiducials.shape == (peaks.size, len(FIDUCIALS))
        for name, tol_ms in (("qrs_on", 20), ("qrs_off", 20), ("t_off", 60), ("p_on", 40)):
            err = _errors_ms(d, ref, name, rec.fs)
            assert err.size >= 3
            assert np.mean(np.abs(err) <= tol_ms) >= 0.8, (name, err)

    def test_order_within_each_beat(self, ludb: Path) -> None:
        rec, peaks, _ = _load(ludb, 1)
        f = ecg_delineate(rec.signal, rec.fs, peaks).fiducials
        complete = np.isfinite(f).all(axis=1)
        assert complete.sum() >= 5
        assert np.all(np.diff(f[complete], axis=1) >= 0)

    def test_one_bad_lead_does_not_move_the_multilead_fiducial(self, ludb: Path) -> None:
        rec, peaks, _ = _load(ludb, 1)
        clean = ecg_delineate(rec.signal, rec.fs, peaks)
        noisy_sig = rec.signal.copy()
        noisy_sig[7] = np.random.default_rng(0).normal(0.0, 1.0, noisy_sig.shape[1])
        noisy = ecg_delineate(noisy_sig, rec.fs, peaks)
        for name in ("qrs_on", "qrs_off", "t_off"):
            shift = np.abs(noisy[name] - clean[name]) * 1000.0 / rec.fs
            assert np.nanmedian(shift) <= 4.0, name

    @pytest.mark.parametrize("shift", [37, 250])
    def test_shifting_the_record_shifts_the_marks(self, ludb: Path, shift: int) -> None:
        rec, peaks, _ = _load(ludb, 1)
        base = ecg_delineate(rec.signal, rec.fs, peaks)
        padded = np.pad(rec.signal, ((0, 0), (shift, 0)), mode="edge")
        moved = ecg_delineate(padded, rec.fs, peaks + shift)
        inner = slice(1, -1)  # the first and last beats sit at the record's edges
        np.testing.assert_allclose(moved.fiducials[inner] - shift, base.fiducials[inner], atol=2.0)

    @pytest.mark.parametrize("method", ["dsp", "hybrid"])
    @pytest.mark.parametrize("after_r_s", [0.25, 0.3, 0.35])
    def test_a_wave_cut_by_the_record_end_has_no_boundary(self, ludb: Path, method: str, after_r_s: float) -> None:
        """A record that ends inside the last beat's T wave shows neither its peak nor its end: none is reported,
        on any lead or across leads (not the last sample, where the search ran out of record)."""
        rec, peaks, _ = _load(ludb, 1)
        end = int(peaks[-2] + after_r_s * rec.fs)
        d = ecg_delineate(rec.signal[:, :end], rec.fs, peaks[:-1], method=method)
        assert np.isnan(d["t_off"][-1]) and np.isnan(d["t_peak"][-1])
        assert np.isfinite(d["t_off"][:-1]).sum() >= peaks.size - 3
        assert not np.any(d.per_lead >= end - 1) and not np.any(d.per_lead <= 0)

    def test_lead_mask_and_errors(self, ludb: Path) -> None:
        rec, peaks, _ = _load(ludb, 1)
        only_two = np.zeros(12, dtype=bool)
        only_two[[1, 6]] = True
        d = ecg_delineate(rec.signal, rec.fs, peaks, lead_mask=only_two)
        assert np.isfinite(d["qrs_on"]).sum() >= peaks.size - 2
        with pytest.raises(CardioScreenError, match="dsp"):
            ecg_delineate(rec.signal, rec.fs, peaks, method="nope")
        with pytest.raises(CardioScreenError, match="median"):
            ecg_delineate(rec.signal, rec.fs, peaks, combine="nope")
        with pytest.raises(CardioScreenError, match="r_peaks"):
            ecg_delineate(rec.signal, rec.fs, peaks[::-1])
        with pytest.raises(KeyError, match="qrs_on"):
            d["q_on"]


class TestUNet:
    def test_agrees_with_dsp_on_an_unseen_record(self, example_record_path: Path) -> None:
        # the shipped U-Net was trained on LUDB only; the example is a PTB-XL record it never saw
        rec = read_ecg(example_record_path, standard12=True)
        peaks, _ = ecg_peaks(rec.signal, rec.fs)
        dsp = ecg_delineate(rec.signal, rec.fs, peaks, method="dsp")
        unet = ecg_delineate(rec.signal, rec.fs, peaks, method="unet")
        assert unet.per_lead.shape == dsp.per_lead.shape
        for name, tol_ms in (("qrs_on", 16), ("qrs_off", 16), ("t_off", 40)):
            diff_ms = np.abs(unet[name] - dsp[name]) * 1000.0 / rec.fs
            assert np.nanmedian(diff_ms) <= tol_ms, (name, diff_ms)

    def test_needs_twelve_leads(self, ludb: Path) -> None:
        rec, peaks, _ = _load(ludb, 1)
        with pytest.raises(CardioScreenError, match="12 standard leads"):
            ecg_delineate(rec.signal[:8], rec.fs, peaks, method="unet")


class TestSamplingRates:
    @pytest.mark.parametrize("target_fs", [250.0, 1000.0])
    def test_same_boundaries_at_other_rates(self, ludb: Path, target_fs: float) -> None:
        rec, peaks, _ = _load(ludb, 1)
        base = ecg_delineate(rec.signal, rec.fs, peaks)
        other = rec.resample(target_fs)
        scaled_peaks = np.round(peaks * target_fs / rec.fs).astype(np.int64)
        d = ecg_delineate(other.signal, other.fs, scaled_peaks)
        for name in ("qrs_on", "qrs_off", "t_off", "p_on"):
            diff_ms = d[name] * 1000.0 / target_fs - base[name] * 1000.0 / rec.fs
            assert np.nanmedian(np.abs(diff_ms)) <= 8.0, (name, diff_ms)


    def test_low_rate_record(self, ludb: Path) -> None:
        # 100 Hz (PTB-XL's low-rate copy): the U-Net's 40 Hz band does not fit below 50 Hz; it is capped, not refused
        rec, peaks, _ = _load(ludb, 1)
        low = rec.resample(100.0)
        d = ecg_delineate(low.signal, low.fs, np.round(peaks / 5).astype(np.int64), "hybrid")
        for name in ("p_on", "qrs_on", "qrs_off", "t_off"):
            assert np.isfinite(d[name]).mean() >= 0.7, name


class TestPacing:
    @pytest.mark.parametrize("rec_id", [95, 111])
    def test_no_pacing_spike_is_a_qrs_onset(self, ludb: Path, rec_id: int) -> None:
        rec, peaks, ref = _load(ludb, rec_id)
        d = ecg_delineate(rec.signal, rec.fs, peaks)
        assert d.pacing_spikes.size >= 5
        onsets = d["qrs_on"][np.isfinite(d["qrs_on"])]
        gap = onsets[:, None] - d.pacing_spikes[None, :]
        # every onset lies outside the blanked span of every spike (it is after the spike's decay, or far before)
        assert not np.any((gap > -1) & (gap < SPIKE_BLANK_S * rec.fs - 1))
        err = _errors_ms(d, ref, "qrs_on", rec.fs)
        assert np.median(np.abs(err)) <= 16

    @pytest.mark.parametrize("rec_id", [1, 51, 121])
    def test_unpaced_records_have_no_spikes(self, ludb: Path, rec_id: int) -> None:
        rec, peaks, _ = _load(ludb, rec_id)
        spikes, beat_spike = pacing_spikes(rec.signal, rec.fs, peaks)
        assert spikes.size == 0
        assert np.isnan(beat_spike).all()

    def test_synthetic_spikes_are_found_and_blanked(self, ludb: Path) -> None:
        rec, peaks, _ = _load(ludb, 1)
        sig = rec.signal.astype(float).copy()
        lead_in = round(0.08 * rec.fs)
        for r in peaks[1:-1]:
            sig[:, r - lead_in : r - lead_in + 2] += 0.8
        spikes, beat_spike = pacing_spikes(sig, rec.fs, peaks)
        np.testing.assert_array_equal(spikes, peaks[1:-1] - lead_in)
        d = ecg_delineate(sig, rec.fs, peaks)
        inner = d["qrs_on"][1:-1]
        assert np.all(inner >= peaks[1:-1] - lead_in + SPIKE_BLANK_S * rec.fs - 1)


class TestUNetEngine:
    def test_onnx_runtime_matches_pytorch(self, example_record_path: Path) -> None:
        import torch

        rec = read_ecg(example_record_path, standard12=True)
        x = learned.preprocess(rec.signal, rec.fs)
        n = x.shape[-1] - x.shape[-1] % 8
        model, _ = learned.load_model()
        with torch.inference_mode():
            expected = model(torch.from_numpy(x[None, :, :n]))[0].reshape(12, 4, -1).numpy()
        got = learned.unet_logits(x[:, :n])
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-4)

    def test_shipped_graph_is_made_from_the_shipped_weights(self) -> None:
        assert learned.stored_onnx() is not None

    def test_stale_graph_is_not_used(self, tmp_path: Path) -> None:
        shipped = learned.SHIPPED_WEIGHTS
        weights = tmp_path / "unet.safetensors"
        for suffix in (".safetensors", ".json", ".onnx", ".onnx.json"):
            weights.with_suffix(suffix).write_bytes(shipped.with_suffix(suffix).read_bytes())
        assert learned.stored_onnx(str(weights)) is not None
        weights.with_suffix(".onnx.json").write_text('{"weights_sha256": "0"}')
        assert learned.stored_onnx(str(weights)) is None
        x = np.zeros((12, 64), dtype=np.float32)
        np.testing.assert_allclose(learned.unet_logits(x, str(weights)), learned.unet_logits(x), atol=1e-5)


def _fiducials_beat_by_beat(labels: np.ndarray, x: np.ndarray, r: np.ndarray, fs: float) -> np.ndarray:
    """The segment rules of ``fiducials_from_labels`` written plainly, lead by lead and beat by beat."""
    ms = fs / 1000.0

    def runs(row: np.ndarray, cls: int, min_len: int) -> np.ndarray:
        edges = np.diff(np.concatenate([[0], (row == cls).astype(int), [0]]))
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
        keep = ends - starts + 1 >= min_len
        return np.stack([starts[keep], ends[keep]], axis=1)

    out = np.full((r.size, labels.shape[0], len(FIDUCIALS)), np.nan)
    for lead in range(labels.shape[0]):
        qrs, p, t = runs(labels[lead], 2, round(20 * ms)), runs(labels[lead], 1, round(20 * ms)), \
            runs(labels[lead], 3, round(40 * ms))
        if qrs.size == 0:
            continue
        centre, prev_off = qrs.mean(axis=1), -np.inf
        for b, rb in enumerate(r):
            j = int(np.argmin(np.abs(centre - rb)))
            if abs(centre[j] - rb) > 100 * ms:
                continue
            on, off = qrs[j]
            out[b, lead, 3:5] = on, off
            before = p[(p[:, 1] <= on + 2) & (p[:, 0] > prev_off) & (p[:, 0] >= on - 400 * ms)]
            if before.size:
                ps, pe = before[-1]
                out[b, lead, 0:3] = ps, ps + np.argmax(np.abs(x[lead, ps : pe + 1] - x[lead, ps])), pe
            nxt = centre[j + 1] if j + 1 < centre.size else np.inf
            after = t[(t[:, 0] >= off - 10 * ms) & (t[:, 0] <= off + 120 * ms) & (t[:, 1] < nxt)]
            if after.size:
                ts, te = after[0]
                mid = ts + (te - ts) // 3
                out[b, lead, 5:7] = mid + np.argmax(np.abs(x[lead, mid : te + 1] - x[lead, te])), te
            prev_off = off
    return out


class TestSegmentFiducials:
    @pytest.mark.parametrize("rec_id", [1, 9, 95])
    def test_same_as_beat_by_beat_on_real_labels(self, ludb: Path, rec_id: int) -> None:
        rec, peaks, _ = _load(ludb, rec_id)
        x = learned.preprocess(rec.signal, rec.fs)
        labels = learned.segment_labels(learned.unet_logits(x))
        r = np.round(peaks * learned.MODEL_FS / rec.fs).astype(np.int64)
        got = fiducials_from_labels(labels, x, r, learned.MODEL_FS)
        assert np.isfinite(got[..., FIDUCIALS.index("qrs_on")]).mean() > 0.8
        np.testing.assert_array_equal(got, _fiducials_beat_by_beat(labels, x, r, learned.MODEL_FS))

    @settings(max_examples=30, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1), n_leads=st.integers(1, 4))
    def test_same_as_beat_by_beat_on_random_labels(self, seed: int, n_leads: int) -> None:
        rng = np.random.default_rng(seed)
        lengths = rng.integers(1, 40, size=400)
        labels = np.repeat(rng.integers(0, 4, size=lengths.size), lengths)[None, :].repeat(n_leads, 0)[:, :2500]
        x = rng.standard_normal(labels.shape).astype(np.float32)
        r = np.sort(rng.choice(labels.shape[1], size=12, replace=False))
        np.testing.assert_array_equal(fiducials_from_labels(labels, x, r, 250.0),
                                      _fiducials_beat_by_beat(labels, x, r, 250.0))


class TestHelpers:
    @settings(max_examples=40, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from([(5, 12, 7), (3, 4), (6,), (0, 12, 7), (2, 0, 7)]))
    def test_nanmedian_is_numpys(self, seed: int, shape: tuple[int, ...]) -> None:
        rng = np.random.default_rng(seed)
        values = rng.integers(0, 50, shape).astype(float)
        values[rng.random(shape) < 0.4] = np.nan
        for axis in range(values.ndim):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                expected = np.nanmedian(values, axis=axis)
            np.testing.assert_array_equal(nanmedian(values, axis), expected)

    @settings(max_examples=60, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from([(5, 12, 7), (4, 6), (6,), (7,), (9, 3, 2)]),
           dtype=st.sampled_from([np.float64, np.float32, np.int64]), layout=st.sampled_from(["C", "F", "gather"]))
    def test_median_is_numpys(self, seed: int, shape: tuple[int, ...], dtype: type, layout: str) -> None:
        """Values, dtype and memory layout (a later mean over the result sums in the order its layout gives)."""
        rng = np.random.default_rng(seed)
        values = np.round(rng.standard_normal(shape) * 3, 1)
        if dtype is not np.int64:
            values[rng.random(shape) < 0.05] = np.nan
        values = values.astype(dtype)
        if layout == "F":
            values = np.asfortranarray(values)
        elif layout == "gather" and values.ndim > 1:
            values = values[:, rng.integers(0, shape[1], (3, 4))]
        for axis in range(values.ndim):
            expected = np.median(values, axis=axis)
            got = median(values, axis)
            np.testing.assert_array_equal(got, expected)
            assert got.dtype == expected.dtype
            if np.ndim(expected) > 1:
                assert got.strides == expected.strides

    @settings(max_examples=50, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), width=st.integers(1, 80))
    def test_cut_windows_repeat_the_end_samples(self, seed: int, n: int, width: int) -> None:
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((3, n))
        first = rng.integers(-width - 5, n + 5, size=4)
        idx = np.clip(first[:, None] + np.arange(width)[None, :], 0, n - 1)
        np.testing.assert_array_equal(cut_windows(x, first, width), x[:, idx].transpose(1, 0, 2))

    @settings(max_examples=50, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1), length=st.integers(1, 8), density=st.floats(0.0, 1.0))
    def test_runs_and_moving_mean_match_scipy_filters(self, seed: int, length: int, density: float) -> None:
        rng = np.random.default_rng(seed)
        below = rng.random((4, 50)) < density
        for forward, origin in ((True, -(length // 2)), (False, (length - 1) // 2)):
            expected = ndimage.minimum_filter1d(below.view(np.uint8), length, mode="constant", cval=1, origin=origin)
            np.testing.assert_array_equal(_run_below(below, length, forward), expected.view(bool))
        x = rng.random((4, 50)).astype(np.float32)
        np.testing.assert_allclose(_moving_mean(x, length), ndimage.uniform_filter1d(x, length, mode="constant"),
                                   rtol=1e-6, atol=1e-6)

    @settings(max_examples=30, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1), classes=st.integers(2, 6))
    def test_segment_labels_are_the_argmax(self, seed: int, classes: int) -> None:
        rng = np.random.default_rng(seed)
        logits = rng.integers(-3, 3, size=(12, classes, 300)).astype(np.float32)  # many ties: the first class wins
        np.testing.assert_array_equal(learned.segment_labels(logits), logits.argmax(axis=1))

    def test_dsp_without_p_wave_keeps_qrs_and_t(self, ludb: Path) -> None:
        rec, peaks, _ = _load(ludb, 1)
        full, _ = delineate_dsp(rec.signal, rec.fs, peaks)
        no_p, _ = delineate_dsp(rec.signal, rec.fs, peaks, p_wave=False)
        p_cols = [FIDUCIALS.index(n) for n in ("p_on", "p_peak", "p_off")]
        assert np.isnan(no_p[..., p_cols]).all() and np.isfinite(full[..., p_cols]).any()
        np.testing.assert_array_equal(np.delete(no_p, p_cols, axis=-1), np.delete(full, p_cols, axis=-1))
