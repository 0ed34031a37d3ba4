"""Zero-phase filtering in the frequency domain: the forward-backward response without its edge transients, one
spectrum per signal shared by every filter and rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal as sps

from cardioscreen.io import read_ecg
from cardioscreen.signal import spectral
from cardioscreen.signal.clean import _design, ecg_clean
from cardioscreen.signal.spectral import bandpass, clear_recent, zero_phase


@pytest.fixture(scope="module")
def ludb(shared_data: Path) -> Path:
    return shared_data / "ludb"


class TestBandpass:
    @pytest.mark.parametrize(("fs", "band"), [(500.0, (0.5, 40.0)), (500.0, (0.5, 12.0)), (250.0, (0.5, 40.0))])
    def test_bandpass_is_a_forward_backward_butterworth(self, ludb: Path, fs: float, band: tuple[float, float]) -> None:
        sig = read_ecg(ludb / "1.hea", standard12=True).resample(fs).signal.astype(float)
        # sosfiltfilt started far outside the record (odd extension over the whole record) has no edge transient
        sos = sps.butter(2, band, btype="band", fs=fs, output="sos")
        expected = sps.sosfiltfilt(sos, sig, axis=-1, padlen=sig.shape[-1] - 1)
        got = bandpass(sig, fs, *band)
        assert got.shape == sig.shape
        inner = slice(round(fs), -round(fs))
        np.testing.assert_allclose(got[:, inner], expected[:, inner], rtol=0, atol=2e-3)
        np.testing.assert_allclose(got, expected, rtol=0, atol=2e-2)
        # scipy's default (15 samples of padding) is the one far off near the ends
        short = sps.sosfiltfilt(sos, sig, axis=-1)
        assert np.abs(short - expected).max() > 5 * np.abs(got - expected).max()
        assert not got.flags.writeable
        # an equal signal gets the same result; a changed one is filtered anew
        assert bandpass(sig.copy(), fs, *band) is got
        changed = sig.copy()
        changed[0, 100] += 1.0
        assert not np.array_equal(bandpass(changed, fs, *band), got)
        clear_recent()
        again = bandpass(sig, fs, *band)
        assert again is not got
        np.testing.assert_array_equal(again, got)

    @pytest.mark.parametrize(("fs", "out_fs"), [(500.0, 250.0), (1000.0, 250.0), (360.0, 250.0), (100.0, 250.0)])
    def test_bandpass_resamples(self, ludb: Path, fs: float, out_fs: float) -> None:
        rec = read_ecg(ludb / "3.hea", standard12=True)
        sig = rec.resample(fs).signal.astype(float)
        got = bandpass(sig, fs, 0.5, 40.0, out_fs=out_fs)
        expected = bandpass(rec.resample(out_fs).signal.astype(float), out_fs, 0.5, 40.0)
        assert got.shape[-1] == -(-sig.shape[-1] * round(out_fs) // round(fs))
        inner = slice(round(out_fs), round(out_fs) * 9)
        spread = np.ptp(expected[:, inner], axis=-1)
        assert np.all(np.abs(got[:, inner] - expected[:, inner]).max(axis=-1) <= 0.05 * spread)

    @pytest.mark.parametrize(("low", "high", "out_fs"), [(0.5, 260.0, None), (0.5, 200.0, 250.0), (20.0, 10.0, None)])
    def test_bandpass_refuses_a_band_that_does_not_fit(self, low: float, high: float, out_fs: float | None) -> None:
        with pytest.raises(ValueError, match="band"):
            bandpass(np.zeros((2, 100)), 500.0, low, high, out_fs=out_fs)

    @settings(max_examples=30, deadline=None)
    @given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 3000))
    def test_bandpass_is_linear_and_any_length(self, seed: int, n: int) -> None:
        rng = np.random.default_rng(seed)
        a, b = rng.standard_normal((2, 3, n))
        ya, yb, yab = (np.asarray(bandpass(v, 500.0, 0.5, 40.0)) for v in (a, b, a + b))
        assert ya.shape == (3, n)
        np.testing.assert_allclose(yab, ya + yb, atol=1e-4)


class TestZeroPhase:
    @pytest.mark.parametrize("method", ["default", "baseline"])
    def test_cleaning_is_its_design_forward_and_backward(self, ludb: Path, method: str) -> None:
        sig = read_ecg(ludb / "1.hea", standard12=True).signal.astype(float)
        sos = _design(500.0, method, 50.0).copy()  # (the cached design is read-only; SciPy wants it writable)
        expected = sps.sosfiltfilt(sos, sig, axis=-1, padlen=sig.shape[-1] - 1)
        got = ecg_clean(sig, 500.0, method=method)
        inner = slice(500, -500)
        np.testing.assert_allclose(got[:, inner], expected[:, inner], rtol=0, atol=2e-3)
        # the old cleaning (sosfiltfilt over one second of padding) starts with a transient this one does not have
        short = sps.sosfiltfilt(sos, sig, axis=-1, padlen=500)
        assert np.abs(short - expected).max() > 2 * np.abs(got - expected).max()

    def test_diagnostic_band_differs_from_a_forward_backward_pass_only_below_half_a_hertz(self, ludb: Path) -> None:
        # a 0.05 Hz high-pass rings for longer than any padding: the two differ by a slow wave, which the median
        # beat's isoelectric baseline takes away; above 0.5 Hz (the waves) they agree
        sig = read_ecg(ludb / "1.hea", standard12=True).signal.astype(float)
        sos = _design(500.0, "diagnostic", 50.0).copy()
        difference = ecg_clean(sig, 500.0, method="diagnostic") - sps.sosfiltfilt(sos, sig, axis=-1, padlen=500)
        above = sps.sosfiltfilt(sps.butter(2, 0.5, btype="highpass", fs=500.0, output="sos"), difference, axis=-1)
        assert np.abs(difference).max() < 0.2
        assert np.abs(above[:, 500:-500]).max() < 5e-3

    def test_a_line_and_an_offset_are_removed_up_to_the_edges(self) -> None:
        t = np.arange(5000) / 500.0
        x = np.stack([3.0 + 0.0 * t, -1.0 + 0.4 * t])
        assert np.abs(ecg_clean(x, 500.0)).max() < 1e-5
        assert np.abs(sps.sosfiltfilt(_design(500.0, "default", 50.0).copy(), x, axis=-1, padlen=500)).max() > 1e-3

    def test_one_spectrum_serves_the_cleaning_and_a_lower_rate(self, ludb: Path) -> None:
        sig = read_ecg(ludb / "3.hea", standard12=True).signal.astype(float)
        clear_recent()
        alone = np.array(bandpass(sig, 500.0, 0.5, 40.0, out_fs=125.0))
        clear_recent()
        ecg_clean(sig, 500.0)
        ecg_clean(sig, 500.0, method="diagnostic")
        after = bandpass(sig, 500.0, 0.5, 40.0, out_fs=125.0)
        np.testing.assert_array_equal(after, alone)
        assert len(spectral._recent.spectra) == 1

    @pytest.mark.parametrize("n", [3001, 4500, 5003])
    def test_a_rate_the_spectrum_does_not_divide_gets_its_own(self, n: int) -> None:
        # at these lengths the same-rate spectrum's FFT length is not a multiple of 4, so 125 Hz needs another
        x = np.random.default_rng(n).standard_normal((2, n))
        clear_recent()
        alone = np.array(bandpass(x, 500.0, 0.5, 40.0, out_fs=125.0))
        clear_recent()
        zero_phase(x, 500.0, _design(500.0, "default", 50.0))
        first = spectral._recent.spectra[-1]
        assert first.n_fft % 4 != 0
        y = bandpass(x, 500.0, 0.5, 40.0, out_fs=125.0)
        np.testing.assert_array_equal(y, alone)
        assert len(spectral._recent.spectra) == 2
        used = spectral._recent.spectra[-1]
        assert used is not first and used.pad % 4 == 0 and used.n_fft % 4 == 0

    def test_refuses_a_filter_that_passes_zero_hertz(self) -> None:
        low_pass = sps.butter(2, 40.0, btype="lowpass", fs=500.0, output="sos")
        with pytest.raises(ValueError, match="0 Hz"):
            zero_phase(np.ones((1, 100)), 500.0, low_pass)

    @pytest.mark.parametrize("n", [1, 2, 3])
    def test_very_short_signals(self, n: int) -> None:
        out = ecg_clean(np.arange(n, dtype=float), 500.0)
        assert out.shape == (n,) and np.isfinite(out).all()
