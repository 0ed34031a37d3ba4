"""The z100 recipe: properties on real raw PTB-XL records and agreement with the stored ptbxl-z100 arrays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal as sps

from cardioscreen.datasets.preprocess import fit_length, normalise, windows, z100
from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.datasets.z100 import Z100
from cardioscreen.errors import CardioScreenError


@pytest.fixture(scope="module")
def raw(ptbxl_dir: Path) -> np.ndarray:
    return PTBXL.load(ptbxl_dir).read_signal(8, 500)


class TestZ100Recipe:
    def test_shape_and_zscore(self, raw: np.ndarray) -> None:
        out = z100(raw, 500)
        assert out.shape == (12, 1000) and out.dtype == np.float32
        # z-scored at 500 Hz before decimation: each lead stays close to mean 0, std 1 at 100 Hz
        np.testing.assert_allclose(out.mean(axis=1), 0, atol=0.05)
        np.testing.assert_allclose(out.std(axis=1), 1, atol=0.1)

    def test_band_limited(self, raw: np.ndarray) -> None:
        out = z100(raw, 500)
        f, p = sps.welch(out, fs=100, nperseg=512, axis=-1)
        assert p[:, f < 0.2].sum() < 0.01 * p.sum()
        assert p[:, f > 45].sum() < 0.01 * p.sum()

    def test_other_rate_resampled_first(self, raw: np.ndarray, ptbxl_dir: Path) -> None:
        lr = PTBXL.load(ptbxl_dir).read_signal(8, 100)  # the official 100 Hz version of the same record
        a, b = z100(raw, 500), z100(lr, 100)
        assert b.shape == a.shape
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.9  # the official 100 Hz files differ a little

    def test_stored_folder_has_recipe_statistics(self, shared_data: Path) -> None:
        x = Z100.load(shared_data / "ptbxl-z100").subset(np.arange(1598) < 64).signals()
        np.testing.assert_allclose(x.mean(axis=-1), 0, atol=0.05)
        np.testing.assert_allclose(x.std(axis=-1), 1, atol=0.1)

    def test_unknown_recipe(self, raw: np.ndarray) -> None:
        with pytest.raises(CardioScreenError, match="z100"):
            normalise(raw, 500, "nope")


def _scipy_z100(x: np.ndarray) -> np.ndarray:
    """The z100 recipe at 500 Hz spelled out with scipy's own functions (how ptbxl-z100 was made)."""
    b, a = sps.butter(4, [0.5, 40.0], btype="band", fs=500)
    filtered = sps.filtfilt(b, a, np.asarray(x, dtype=np.float64), axis=-1)
    z = (filtered - filtered.mean(axis=-1, keepdims=True)) / filtered.std(axis=-1, keepdims=True)
    return np.asarray(sps.resample_poly(z, 1, 5, axis=-1), dtype=np.float32)


class TestZ100EqualsScipyRecipe:
    def test_real_records(self, ptbxl_dir: Path) -> None:
        dataset = PTBXL.load(ptbxl_dir)
        for ecg_id in dataset.ecg_ids[::40]:
            x = dataset.read_signal(int(ecg_id), 500)
            np.testing.assert_allclose(z100(x, 500), _scipy_z100(x), rtol=0, atol=1e-5)

    def test_batch_of_records(self, raw: np.ndarray) -> None:
        batch = np.stack([raw, raw[::-1] * 2])
        np.testing.assert_allclose(z100(batch, 500), _scipy_z100(batch), rtol=0, atol=1e-5)

    @pytest.mark.parametrize("n", [100, 999, 4998, 5001, 7503])
    def test_odd_lengths(self, raw: np.ndarray, n: int) -> None:
        x = np.tile(raw, 2)[:, :n]
        out = z100(x, 500)
        assert out.shape == (12, -(-n // 5))
        np.testing.assert_allclose(out, _scipy_z100(x), rtol=0, atol=1e-5)


class TestWindows:
    def test_fit_length(self) -> None:
        x = np.arange(24, dtype=float).reshape(2, 12)
        assert fit_length(x, 8).shape == (2, 8)
        padded = fit_length(x, 16)
        assert padded.shape == (2, 16) and padded[:, :2].sum() == 0

    def test_windows_cover_record(self) -> None:
        x = np.random.default_rng(0).normal(size=(12, 1000))
        w = windows(x, 250, 125)
        assert w.shape == (7, 12, 250)
        np.testing.assert_array_equal(w[-1], x[:, -250:])
        assert windows(x[:, :100], 250, 125).shape == (1, 12, 250)
