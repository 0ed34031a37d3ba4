"""The trainer on real records: seeded runs are reproducible, a resumed run equals an uninterrupted one."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from cardioscreen.models.bundle import InputSpec
from cardioscreen.training.data import TaskData, load_training_data
from cardioscreen.training.inference import predict_windows
from cardioscreen.training.metrics import macro_auc
from cardioscreen.training.trainer import CHECKPOINT, METRICS_LOG, TrainConfig, Trainer, TrainResult, masked_loss


class SmallNet(nn.Module):
    """A two-layer convolutional network, small enough for a test."""

    def __init__(self, n_out: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(12, 8, 15, stride=4)
        self.head = nn.Linear(8, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.conv(x)).mean(dim=-1))


@pytest.fixture(scope="module")
def data(ptbxl_dir: Path) -> TaskData:
    return load_training_data(ptbxl_dir, ("superdiagnostic",), max_records=24)


def _fit(data: TaskData, work: Path, epochs: int, augment: tuple[str, ...] = ()) -> TrainResult:
    config = TrainConfig(epochs=epochs, batch_size=16, patience=10, seed=5, augment=augment)
    trainer = Trainer(config, work)
    torch.manual_seed(5)
    spec = trainer.input_spec(data, 100.0, "z100")
    return trainer.fit(SmallNet(len(data.labels)), data, spec)


class TestTrainer:
    def test_reproducible(self, data: TaskData, tmp_path: Path) -> None:
        a, b = _fit(data, tmp_path / "a", 2), _fit(data, tmp_path / "b", 2)
        np.testing.assert_array_equal(a.val_scores, b.val_scores)
        for pa, pb in zip(a.model.parameters(), b.model.parameters(), strict=True):
            assert torch.equal(pa, pb)
        lines = (tmp_path / "a" / METRICS_LOG).read_text().splitlines()
        assert len(lines) == 2 and '"val_macro_auc"' in lines[0]

    def test_augmented_run_reproducible_and_different(self, data: TaskData, tmp_path: Path) -> None:
        """Augmentations follow the run's seed (same weights twice) and change what the network learns."""
        a = _fit(data, tmp_path / "a", 1, augment=("all",))
        b = _fit(data, tmp_path / "b", 1, augment=("all",))
        plain = _fit(data, tmp_path / "c", 1)
        np.testing.assert_array_equal(a.val_scores, b.val_scores)
        assert not np.array_equal(a.val_scores, plain.val_scores)

    def test_trains_and_returns_the_best_epoch(self, data: TaskData, tmp_path: Path) -> None:
        """The weights moved away from their initialisation, and the returned model is the one whose validation
        scores and AUC are reported (the best epoch of the log)."""
        result = _fit(data, tmp_path, 2)
        torch.manual_seed(5)
        initial = SmallNet(len(data.labels))
        moved = max(float((p - q).detach().abs().max()) for p, q in zip(initial.parameters(), result.model.parameters(),
                                                                 strict=True))
        assert moved > 1e-4  # measured: 1e-3 after two epochs
        log = [json.loads(line) for line in (tmp_path / METRICS_LOG).read_text().splitlines()]
        best = max(log, key=lambda entry: entry["val_macro_auc"])
        assert (result.best_epoch, result.best_val_auc) == (best["epoch"], best["val_macro_auc"])
        val = data.in_split("val")
        spec = Trainer(TrainConfig(), tmp_path).input_spec(data, 100.0, "z100")
        np.testing.assert_allclose(predict_windows(result.model, val.x, spec), result.val_scores, atol=1e-6)
        assert result.best_val_auc == pytest.approx(macro_auc(val.y, result.val_scores, val.mask))

    def test_resume_equals_uninterrupted(self, data: TaskData, tmp_path: Path) -> None:
        whole = _fit(data, tmp_path / "whole", 2).model
        work = tmp_path / "resumed"
        first = Trainer(TrainConfig(epochs=2, batch_size=16, patience=10, seed=5), work)
        torch.manual_seed(5)
        _interrupt_after_one_epoch(first, SmallNet(len(data.labels)), data, first.input_spec(data, 100.0, "z100"))
        assert (work / CHECKPOINT).is_file()
        assert len((work / METRICS_LOG).read_text().splitlines()) == 1
        resumed = _fit(data, work, 2).model
        for pa, pb in zip(whole.parameters(), resumed.parameters(), strict=True):
            torch.testing.assert_close(pa, pb)

    def test_masked_loss_ignores_unknown(self) -> None:
        logits = torch.tensor([[2.0, -1.0], [0.5, 3.0]])
        y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        mask = torch.tensor([[1.0, 0.0], [1.0, 0.0]])

        def squared(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return (a - b) ** 2

        assert masked_loss(squared, logits, y, mask).item() == pytest.approx((1.0 + 0.25) / 2)


class _StopError(Exception):
    pass


def _interrupt_after_one_epoch(trainer: Trainer, model: nn.Module, data: TaskData, spec: InputSpec) -> None:
    """Run ``trainer`` and interrupt it as soon as its first checkpoint is written."""
    original = trainer._checkpoint

    def checkpoint_then_stop(*args, **kwargs) -> None:
        original(*args, **kwargs)
        raise _StopError

    trainer._checkpoint = checkpoint_then_stop  # type: ignore[method-assign]
    with pytest.raises(_StopError):
        trainer.fit(model, data, spec)
