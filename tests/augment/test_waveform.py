"""Waveform augmentations on real z100 records: shapes, seeding, and that each does what it claims."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardioscreen.augment.waveform import AUGMENTATIONS, augment_batch, check_augmentations
from cardioscreen.datasets.z100 import FS, Z100
from cardioscreen.errors import CardioScreenError


@pytest.fixture(scope="module")
def batch(shared_data: Path) -> np.ndarray:
    """Eight real ptbxl-z100 records, (8, 12, 1000) float32."""
    return Z100.load(shared_data / "ptbxl-z100").signals()[:8]


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_every_augmentation_changes_each_record_and_keeps_shape(name: str, batch: np.ndarray) -> None:
    out = AUGMENTATIONS[name](batch, FS, np.random.default_rng(0))
    assert out.shape == batch.shape and np.isfinite(out).all()
    assert all(not np.allclose(o, b) for o, b in zip(out, batch, strict=True))


def test_seeded_and_probability(batch: np.ndarray) -> None:
    a = augment_batch(batch, FS, ["all"], np.random.default_rng(3))
    b = augment_batch(batch, FS, ["all"], np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    assert a.dtype == batch.dtype
    np.testing.assert_array_equal(augment_batch(batch, FS, ["all"], np.random.default_rng(3), p=0.0), batch)


def test_lead_dropout_zeros_one_to_three_leads(batch: np.ndarray) -> None:
    out = AUGMENTATIONS["lead_dropout"](batch, FS, np.random.default_rng(1))
    zeroed = (np.abs(out).max(axis=-1) == 0).sum(axis=1)
    assert ((zeroed >= 1) & (zeroed <= 3)).all()


def test_amplitude_scales_within_range(batch: np.ndarray) -> None:
    out = AUGMENTATIONS["amplitude"](batch, FS, np.random.default_rng(2))
    ratio = np.abs(out).max(axis=-1) / np.abs(batch).max(axis=-1)
    assert ratio.min() >= 0.7 - 1e-5 and ratio.max() <= 1.4 + 1e-5


def test_bandpass_removes_high_frequencies(batch: np.ndarray) -> None:
    out = AUGMENTATIONS["bandpass"](batch, FS, np.random.default_rng(4))
    spectrum = np.abs(np.fft.rfft(out, axis=-1)) ** 2
    original = np.abs(np.fft.rfft(batch, axis=-1)) ** 2
    above = np.fft.rfftfreq(batch.shape[-1], 1 / FS) > 42
    assert spectrum[..., above].sum() < 0.5 * original[..., above].sum()


def test_time_scale_moves_the_beats(batch: np.ndarray) -> None:
    out = AUGMENTATIONS["time_scale"](batch, FS, np.random.default_rng(5))
    np.testing.assert_allclose(out[:, :, 0], batch[:, :, 0], atol=1e-5)  # anchored at the start
    lag = [int(np.argmax(np.correlate(o[1], b[1], "full"))) - (batch.shape[-1] - 1) for o, b in zip(out, batch,
                                                                                                    strict=True)]
    assert max(abs(v) for v in lag) > 0


def test_unknown_name_lists_keys() -> None:
    with pytest.raises(CardioScreenError, match="lead_dropout"):
        check_augmentations(["flip"])
