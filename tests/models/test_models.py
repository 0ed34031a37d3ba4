"""Contract tests over the model registry: shape, finite output, backward pass, embeddings; the seed net's size."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from cardioscreen.errors import CardioScreenError
from cardioscreen.models.layers import SEBlock1d, SEBlock2d, count_parameters
from cardioscreen.models.registry import create_model, list_models
from cardioscreen.models.windows import aggregate_max, random_crop, sliding_windows

# Reduced widths keep the backward pass fast; input (leads, samples) per model.
SMALL = {
    "se_ecgnet_seed": ({"width": 2}, (12, 500)),
    "se_ecgnet": ({}, (12, 1000)),
    "xresnet1d101": ({"widths": (4, 8, 8, 8)}, (12, 250)),
    "inception1d": ({"filters": 8}, (12, 250)),
    "convnext1d": ({"dims": (8, 16), "depths": (1, 1)}, (12, 1000)),
}


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread: small convolutions are slower, not faster, on a shared, loaded machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def real_batch(ptbxl_dir: Path) -> np.ndarray:
    """Two real PTB-XL records at 100 Hz, (2, 12, 1000) mV."""
    from cardioscreen.datasets.ptbxl import PTBXL

    ptbxl = PTBXL.load(ptbxl_dir)
    return np.stack([ptbxl.read_signal(int(i), 100) for i in ptbxl.ecg_ids[:2]])


def _input(name: str, real_batch: np.ndarray) -> torch.Tensor:
    leads, samples = SMALL[name][1]
    x = real_batch[:, :leads, :samples] if samples <= real_batch.shape[-1] else np.tile(real_batch, 2)[..., :samples]
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


class TestRegistry:
    def test_lists_every_model(self) -> None:
        assert set(list_models()) == set(SMALL)

    def test_unknown_name_lists_keys(self) -> None:
        with pytest.raises(CardioScreenError, match="se_ecgnet_seed"):
            create_model("resnet9000")


@pytest.mark.parametrize("name", sorted(SMALL))
class TestContract:
    def test_forward_backward(self, name: str, real_batch: np.ndarray) -> None:
        torch.manual_seed(0)
        model = create_model(name, num_classes=3, **SMALL[name][0])
        x = _input(name, real_batch)
        logits = model(x)
        assert logits.shape == (2, 3)
        assert torch.isfinite(logits).all()
        logits.sum().backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        assert all(g is not None for g in grads)
        assert any(float(g.abs().sum()) > 0 for g in grads if g is not None)

    def test_head_of_features_is_forward(self, name: str, real_batch: np.ndarray) -> None:
        model = create_model(name, num_classes=4, **SMALL[name][0]).eval()
        x = _input(name, real_batch)
        with torch.no_grad():
            feats = model.forward_features(x)
            assert feats.ndim == 2 and feats.shape[0] == 2
            torch.testing.assert_close(model.forward_head(feats), model(x))

    def test_other_lead_counts(self, name: str, real_batch: np.ndarray) -> None:
        model = create_model(name, num_classes=1, in_channels=2, **SMALL[name][0]).eval()
        x = _input(name, real_batch)[:, :2]
        with torch.no_grad():
            assert model(x).shape == (2, 1)


class TestSeedNetwork:
    def test_prototype_parameter_count(self) -> None:
        assert count_parameters(create_model("se_ecgnet_seed", num_classes=2)) == 42_756_561

    def test_embedding_is_1152(self) -> None:
        model = create_model("se_ecgnet_seed", num_classes=2).eval()
        with torch.no_grad():
            assert model.forward_features(torch.zeros(1, 1, 12, 500)).shape == (1, 1152)

    def test_width_scales(self) -> None:
        assert count_parameters(create_model("se_ecgnet_seed", width=4)) < 42_756_561 / 10


class TestSEBlock:
    def test_gate_is_per_channel_and_bounded(self) -> None:
        x = torch.rand(3, 32, 50) + 0.1
        out = SEBlock1d(32, reduction=16)(x)
        ratio = out / x
        assert torch.allclose(ratio, ratio[..., :1].expand_as(ratio))
        assert ((ratio > 0) & (ratio < 1)).all()
        assert SEBlock2d(16)(torch.rand(2, 16, 12, 10)).shape == (2, 16, 12, 10)


class TestWindows:
    def test_sliding_windows_cover_record(self, real_batch: np.ndarray) -> None:
        rec = real_batch[0]
        windows = sliding_windows(rec, 100, 2.5, 1.0)
        assert windows.shape == (9, 12, 250)
        np.testing.assert_array_equal(windows[0], rec[:, :250])
        np.testing.assert_array_equal(windows[-1], rec[:, -250:])

    def test_random_crop_is_a_slice(self, real_batch: np.ndarray) -> None:
        crop = random_crop(real_batch[0], 100, 2.5, np.random.default_rng(0))
        starts = [s for s in range(751) if np.array_equal(real_batch[0][:, s : s + 250], crop)]
        assert starts

    def test_aggregate_max(self) -> None:
        scores = np.array([[0.1, 0.9], [0.5, 0.2], [0.3, 0.4]])
        np.testing.assert_array_equal(aggregate_max(scores), [0.5, 0.9])
        np.testing.assert_array_equal(aggregate_max(scores, np.array([0, 1, 0])), [[0.3, 0.9], [0.5, 0.2]])

    def test_short_record_refused(self) -> None:
        with pytest.raises(CardioScreenError, match="shorter"):
            sliding_windows(np.zeros((12, 100)), 100, 2.5, 1.0)
