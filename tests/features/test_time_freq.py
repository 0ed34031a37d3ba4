"""Time/frequency features against a plain per-value reference, on a real record and on known spectra."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import wfdb
from scipy import stats

from cardioscreen.features import FREQ_FEATURES, LEAD_FEATURES, TIME_FEATURES, extract_features, lead_statistics

FS = 500.0
N = 500


def _reference_lead(x: list[float], fs: float) -> dict[str, float]:
    """The 22 statistics of one lead computed value by value (explicit DFT, Python loops)."""
    n = len(x)
    mean = sum(x) / n
    var = sum((v - mean) ** 2 for v in x) / n
    m3 = sum((v - mean) ** 3 for v in x) / n
    m4 = sum((v - mean) ** 4 for v in x) / n
    rms = math.sqrt(sum(v * v for v in x) / n)
    abs_mean = sum(abs(v) for v in x) / n
    peak = max(abs(v) for v in x)
    out = {
        "mean": mean, "rms": rms, "sqrt_amplitude": (sum(math.sqrt(abs(v)) for v in x) / n) ** 2,
        "abs_mean": abs_mean, "skewness": m3 / var**1.5, "kurtosis": m4 / var**2 - 3, "max": max(x), "min": min(x),
        "peak_to_peak": max(x) - min(x), "variance": var, "waveform_index": rms / abs_mean,
        "peak_index": peak / rms, "impulse_factor": peak / abs_mean,
    }
    k_bins = n // 2 + 1
    amp, power, freqs = [], [], []
    for k in range(k_bins):
        re = sum(v * math.cos(2 * math.pi * k * i / n) for i, v in enumerate(x))
        im = -sum(v * math.sin(2 * math.pi * k * i / n) for i, v in enumerate(x))
        c = 1.0 if k == 0 or (n % 2 == 0 and k == n // 2) else 2.0
        amp.append(c * math.hypot(re, im) / n)
        power.append(c * (re * re + im * im) / n)
        freqs.append(k * fs / n)
    a_mean = sum(amp) / k_bins
    a_var = sum((a - a_mean) ** 2 for a in amp) / k_bins
    energy = sum(power)
    total = sum(amp)
    centroid = sum(f * a for f, a in zip(freqs, amp, strict=True)) / total
    out.update({
        "spec_mean": a_mean, "spec_variance": a_var, "spec_std": math.sqrt(a_var),
        "spec_entropy": -sum(p / energy * math.log(p / energy) for p in power if p > 0) / math.log(k_bins),
        "spec_energy": energy,
        "spec_skewness": sum((a - a_mean) ** 3 for a in amp) / k_bins / a_var**1.5,
        "spec_kurtosis": sum((a - a_mean) ** 4 for a in amp) / k_bins / a_var**2 - 3,
        "spec_shape_mean": centroid,
        "spec_shape_std": math.sqrt(sum((f - centroid) ** 2 * a for f, a in zip(freqs, amp, strict=True)) / total),
    })
    return out


@pytest.fixture(scope="module")
def real_beats(example_record_path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """Ten consecutive 1 s segments (one beat or so each) of the bundled real PTB-XL record."""
    signal, info = wfdb.rdsamp(str(example_record_path.with_suffix("")))
    n_seg = signal.shape[0] // N
    beats = signal[: n_seg * N].T.reshape(signal.shape[1], n_seg, N).transpose(1, 0, 2).astype(np.float32)
    return beats, tuple(info["sig_name"])


class TestAgainstReference:
    def test_real_record_matches_per_value_reference(self, real_beats: tuple[np.ndarray, tuple[str, ...]]) -> None:
        beats, leads = real_beats
        values, names = extract_features(beats, FS, leads)
        assert values.shape == (beats.shape[0], len(leads) * 22)
        col = {name: i for i, name in enumerate(names)}
        for beat in (0, 7):
            for lead_idx in (1, 6):
                ref = _reference_lead([float(v) for v in beats[beat, lead_idx]], FS)
                for stat, expected in ref.items():
                    got = values[beat, col[f"{leads[lead_idx]}_{stat}"]]
                    assert got == pytest.approx(expected, rel=1e-6, abs=1e-9), (beat, leads[lead_idx], stat)

    def test_moments_match_scipy_on_all_leads(self, real_beats: tuple[np.ndarray, tuple[str, ...]]) -> None:
        beats, _ = real_beats
        out = lead_statistics(beats, FS)
        x = beats.astype(np.float64)
        np.testing.assert_allclose(out[..., LEAD_FEATURES.index("skewness")], stats.skew(x, axis=-1), rtol=1e-9)
        np.testing.assert_allclose(out[..., LEAD_FEATURES.index("kurtosis")], stats.kurtosis(x, axis=-1), rtol=1e-9)
        np.testing.assert_allclose(out[..., LEAD_FEATURES.index("variance")], x.var(axis=-1), rtol=1e-9)

    def test_parseval(self, real_beats: tuple[np.ndarray, tuple[str, ...]]) -> None:
        beats, _ = real_beats
        out = lead_statistics(beats, FS)
        x = beats.astype(np.float64)
        np.testing.assert_allclose(out[..., LEAD_FEATURES.index("spec_energy")], (x * x).sum(axis=-1), rtol=1e-9)

    def test_odd_length_matches_reference(self) -> None:
        rng = np.random.default_rng(3)
        x = rng.normal(size=(1, 1, 101))
        out = lead_statistics(x, 250.0)[0, 0]
        ref = _reference_lead([float(v) for v in x[0, 0]], 250.0)
        for i, stat in enumerate(LEAD_FEATURES):
            assert out[i] == pytest.approx(ref[stat], rel=1e-6, abs=1e-9), stat


def _stat(out: np.ndarray, name: str) -> float:
    return float(out[LEAD_FEATURES.index(name)])


class TestKnownSignals:
    def test_pure_sine(self) -> None:
        a, f0 = 1.5, 10.0
        t = np.arange(N) / FS
        out = lead_statistics((a * np.sin(2 * np.pi * f0 * t))[None, None], FS)[0, 0]
        assert _stat(out, "mean") == pytest.approx(0.0, abs=1e-12)
        assert _stat(out, "rms") == pytest.approx(a / math.sqrt(2))
        # 50 samples per cycle: the sampled |sin| averages within 0.2 % of the continuous 2a/pi.
        assert _stat(out, "abs_mean") == pytest.approx(2 * a / math.pi, rel=2e-3)
        assert _stat(out, "kurtosis") == pytest.approx(-1.5)
        assert _stat(out, "skewness") == pytest.approx(0.0, abs=1e-9)
        assert _stat(out, "peak_index") == pytest.approx(math.sqrt(2), rel=2e-3)
        assert _stat(out, "waveform_index") == pytest.approx(math.pi / (2 * math.sqrt(2)), rel=2e-3)
        assert _stat(out, "impulse_factor") == pytest.approx(math.pi / 2, rel=2e-3)
        assert _stat(out, "spec_shape_mean") == pytest.approx(f0)
        assert _stat(out, "spec_shape_std") == pytest.approx(0.0, abs=1e-3)
        assert _stat(out, "spec_entropy") == pytest.approx(0.0, abs=1e-9)
        assert _stat(out, "spec_energy") == pytest.approx(N * a * a / 2)
        assert _stat(out, "spec_mean") == pytest.approx(a / (N // 2 + 1))

    def test_two_tones_centroid_and_spread(self) -> None:
        t = np.arange(N) / FS
        x = 2.0 * np.sin(2 * np.pi * 5 * t) + 1.0 * np.cos(2 * np.pi * 40 * t)
        out = lead_statistics(x[None, None], FS)[0, 0]
        centroid = (2 * 5 + 1 * 40) / 3
        spread = math.sqrt((2 * (5 - centroid) ** 2 + (40 - centroid) ** 2) / 3)
        assert _stat(out, "spec_shape_mean") == pytest.approx(centroid)
        assert _stat(out, "spec_shape_std") == pytest.approx(spread)
        assert _stat(out, "spec_entropy") == pytest.approx(-(0.8 * math.log(0.8) + 0.2 * math.log(0.2)) / math.log(251))

    def test_impulse_has_near_flat_spectrum(self) -> None:
        x = np.zeros((1, 1, N))
        x[0, 0, 0] = 1.0
        out = lead_statistics(x, FS)[0, 0]
        assert _stat(out, "spec_entropy") > 0.99

    def test_flat_leads_give_zeros_not_nan(self) -> None:
        x = np.zeros((2, 3, N))
        x[1] = 0.7
        out = lead_statistics(x, FS)
        assert np.isfinite(out).all()
        assert (out[0] == 0).all()
        assert _stat(out[1, 0], "waveform_index") == pytest.approx(1.0)
        assert _stat(out[1, 0], "kurtosis") == 0.0

    def test_only_shape_features_scale_with_fs(self, real_beats: tuple[np.ndarray, tuple[str, ...]]) -> None:
        beats, _ = real_beats
        base, doubled = lead_statistics(beats, FS), lead_statistics(beats, 2 * FS)
        shape = [LEAD_FEATURES.index("spec_shape_mean"), LEAD_FEATURES.index("spec_shape_std")]
        np.testing.assert_allclose(doubled[..., shape], 2 * base[..., shape])
        others = [i for i in range(len(LEAD_FEATURES)) if i not in shape]
        np.testing.assert_array_equal(doubled[..., others], base[..., others])


class TestLayout:
    def test_names_and_rows_are_per_beat(self, real_beats: tuple[np.ndarray, tuple[str, ...]]) -> None:
        beats, leads = real_beats
        values, names = extract_features(beats, FS, leads)
        assert len(TIME_FEATURES) == 13 and len(FREQ_FEATURES) == 9
        assert names[:2] == ["I_mean", "I_rms"] and "V1_kurtosis" in names and names[-1] == "V6_spec_shape_std"
        assert len(set(names)) == len(names) == values.shape[1]
        single, _ = extract_features(beats[3:4], FS, leads)
        np.testing.assert_allclose(single[0], values[3])

    def test_bad_input_is_refused(self) -> None:
        with pytest.raises(ValueError, match="n_beats, n_leads, n_samples"):
            lead_statistics(np.zeros((12, 500)), FS)
        with pytest.raises(ValueError, match="lead names"):
            extract_features(np.zeros((2, 3, 500)), FS, ["I", "II"])
        with pytest.raises(ValueError, match="fs"):
            lead_statistics(np.zeros((1, 1, 500)), 0.0)
