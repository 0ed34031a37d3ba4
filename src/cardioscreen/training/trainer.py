"""The multi-label trainer: one network, one output per label, masked loss, early stopping on validation macro-AUC.

Seeded and reproducible (one seed drives weights, shuffling and crops), a JSONL metrics line per epoch, a
resumable checkpoint after every epoch, optional Weights & Biases logging (imported only when enabled), CPU by
default and CUDA when present, several GPUs through ``torchrun`` (DistributedDataParallel; rank 0 evaluates
and writes).
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from cardioscreen.augment.waveform import augment_batch, check_augmentations
from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import InputSpec
from cardioscreen.training.data import TaskData
from cardioscreen.training.inference import predict_windows
from cardioscreen.training.metrics import macro_auc

logger = logging.getLogger(__name__)

LOSSES = ("bce", "focal")
OPTIMIZERS = ("adamw_onecycle", "adam_plateau")
"""``adamw_onecycle``: AdamW with a one-cycle schedule; ``adam_plateau``: Adam with ReduceLROnPlateau (the
prototype's)."""
CHECKPOINT = "checkpoint.pt"
METRICS_LOG = "metrics.jsonl"


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of a multi-label run (all JSON-serialisable; stored in the bundle)."""

    model: str = "se_ecgnet"
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-2
    loss: str = "bce"
    optimizer: str = "adamw_onecycle"
    focal_gamma: float = 2.0
    patience: int = 8
    seed: int = 0
    crop_samples: int = 0
    augment: tuple[str, ...] = ()
    augment_p: float = 0.5
    eval_batch_size: int = 256
    device: str = "auto"
    wandb: bool = False
    wandb_project: str = "cardioscreen"

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise CardioScreenError(f"unknown loss {self.loss!r}; choose one of {LOSSES}")
        if self.optimizer not in OPTIMIZERS:
            raise CardioScreenError(f"unknown optimizer {self.optimizer!r}; choose one of {OPTIMIZERS}")
        if self.epochs < 1 or self.batch_size < 1 or self.lr <= 0 or self.patience < 1:
            raise CardioScreenError("epochs, batch_size, patience and lr must be positive")
        if self.crop_samples < 0:
            raise CardioScreenError("crop_samples must be >= 0 (0 = whole record)")
        object.__setattr__(self, "augment", check_augmentations(self.augment))
        if not 0 <= self.augment_p <= 1:
            raise CardioScreenError(f"augment_p must lie in [0, 1], got {self.augment_p}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    """The best network (eval mode, CPU) and its validation scores."""

    model: nn.Module
    val_scores: np.ndarray
    best_epoch: int
    best_val_auc: float
    history: list[dict[str, Any]]
    seconds: float


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (and ask torch for deterministic algorithms where it has them)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def resolve_device(name: str) -> torch.device:
    """``"auto"``: this process's CUDA device when present, else the CPU."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        return torch.device("cpu")
    return torch.device(name)


def _elementwise_loss(config: TrainConfig) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    from cardioscreen.training import losses

    if config.loss == "focal":
        return lambda logits, y: losses.focal_loss(logits, y, gamma=config.focal_gamma, reduction="none")
    return lambda logits, y: losses.bce(logits, y, reduction="none")


def masked_loss(
    elementwise: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    logits: torch.Tensor,
    y: torch.Tensor,
    mask: torch.Tensor,
) -> torch.Tensor:
    """Mean of the element-wise loss over known labels only."""
    values = elementwise(logits, y) * mask
    return values.sum() / mask.sum().clamp_min(1.0)


def _adamw_onecycle(model: nn.Module, cfg: TrainConfig, steps_per_epoch: int) -> tuple[Any, Any]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total = cfg.epochs * steps_per_epoch
    return optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total)


def _adam_plateau(model: nn.Module, cfg: TrainConfig, steps_per_epoch: int) -> tuple[Any, Any]:
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    return optimizer, torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5, patience=2)


_OPTIMIZERS: dict[str, Callable[[nn.Module, TrainConfig, int], tuple[Any, Any]]] = {
    "adamw_onecycle": _adamw_onecycle,
    "adam_plateau": _adam_plateau,
}


class _Distributed:
    """torchrun's process group, when launched by it (``WORLD_SIZE`` > 1)."""

    def __init__(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if self.world > 1 and not torch.distributed.is_initialized():
            torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        if self.world == 1:
            return model
        ids = [device.index] if device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def _selection_key(entry: dict[str, Any]) -> float:
    """Validation macro-AUC; minus the training loss when validation holds no evaluable class."""
    auc = entry["val_macro_auc"]
    return float(auc) if np.isfinite(auc) else -float(entry["train_loss"])


def _batches(n: int, batch_size: int, rng: np.random.Generator, dist: _Distributed) -> Iterator[np.ndarray]:
    per_rank = n // dist.world  # every rank takes the same number of steps, or DDP would hang
    order = rng.permutation(n)[: per_rank * dist.world][dist.rank :: dist.world]
    starts = list(range(0, len(order), batch_size))
    if len(starts) > 1 and len(order) - starts[-1] == 1:  # batch norm cannot train on a batch of one
        starts.pop()
    for start, stop in zip(starts, [*starts[1:], len(order)], strict=True):
        yield np.sort(order[start:stop])


def _random_crop(x: np.ndarray, samples: int, rng: np.random.Generator) -> np.ndarray:
    if not samples or samples >= x.shape[-1]:
        return x
    starts = rng.integers(0, x.shape[-1] - samples + 1, len(x))
    return np.stack([row[:, s : s + samples] for row, s in zip(x, starts, strict=True)])


class Trainer:
    """Train one multi-label network on :class:`TaskData` (splits ``train`` and ``val``).

    Parameters
    ----------
    config : TrainConfig
    work_dir : Path
        Where the checkpoint and the JSONL metrics log go; a run finding a checkpoint there resumes it.
    """

    def __init__(self, config: TrainConfig, work_dir: Path) -> None:
        self.config = config
        self.work_dir = Path(work_dir)
        self.device = resolve_device(config.device)
        self.dist = _Distributed()

    def input_spec(self, data: TaskData, fs: float, recipe: str) -> InputSpec:
        """Input spec of a network trained by this config on ``data``."""
        samples = self.config.crop_samples or data.x.shape[-1]
        return InputSpec(
            fs=fs,
            samples=samples,
            recipe=recipe,
            leads=("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"),
            kind="record",
            stride=samples // 2 if self.config.crop_samples else samples,
            aggregate="max" if self.config.crop_samples else "mean",
        )

    def fit(self, model: nn.Module, data: TaskData, spec: InputSpec) -> TrainResult:
        """Train ``model`` on ``data.in_split("train")``, select on ``"val"``; return the best weights."""
        val = data.in_split("val")

        def score_val(net: nn.Module) -> np.ndarray:
            return predict_windows(net, val.x, spec, device=self.device, batch_size=self.config.eval_batch_size)

        return self.fit_arrays(model, data.in_split("train"), val, score_val, fs=spec.fs)

    def fit_arrays(
        self,
        model: nn.Module,
        train: TaskData,
        val: TaskData,
        score_val: Callable[[nn.Module], np.ndarray],
        fs: float | None = None,
    ) -> TrainResult:
        """Train on the inputs of ``train``; after each epoch ``score_val(model)`` gives record probabilities
        aligned with ``val.y``, whose macro-AUC selects the best epoch and drives early stopping. ``fs`` (Hz) is
        the rate of the inputs, needed by the config's augmentations."""
        cfg = self.config
        if len(train) == 0 or len(val) == 0:
            raise CardioScreenError(f"need train and validation records, got {len(train)} and {len(val)}")
        if cfg.augment and fs is None:
            raise CardioScreenError("augmentations need the input rate: pass fs to fit_arrays")
        seed_everything(cfg.seed)
        model = model.to(self.device)
        net = self.dist.wrap(model, self.device)
        steps_per_epoch = max(1, -(-len(train) // (cfg.batch_size * self.dist.world)))
        optimizer, scheduler = _OPTIMIZERS[cfg.optimizer](model, cfg, steps_per_epoch)
        loss_fn = _elementwise_loss(cfg)
        state = self._resume(model, optimizer, scheduler)
        run = self._wandb(train)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        start_time = time.perf_counter() - state["seconds"]
        for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
            rng = np.random.default_rng([cfg.seed, epoch])
            net.train()
            losses = []
            batches = list(_batches(len(train), cfg.batch_size, rng, self.dist))
            for rows in tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", leave=False, disable=not self.dist.main):
                batch = _random_crop(train.x[rows], cfg.crop_samples, rng)
                if cfg.augment and fs is not None:
                    batch = augment_batch(batch, fs, cfg.augment, rng, cfg.augment_p)
                xb = torch.from_numpy(batch).to(self.device)
                yb = torch.from_numpy(train.y[rows]).to(self.device)
                mb = torch.from_numpy(train.mask[rows].astype(np.float32)).to(self.device)
                loss = masked_loss(loss_fn, net(xb), yb, mb)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                if cfg.optimizer == "adamw_onecycle":
                    scheduler.step()
                losses.append(float(loss.detach()))
            scores = score_val(model)
            entry = self._log_epoch(epoch, losses, val, scores, optimizer, start_time)
            if cfg.optimizer == "adam_plateau":
                scheduler.step(entry["val_macro_auc"])
            if run is not None:
                run.log(entry)
            if _selection_key(entry) > state["best_auc"]:
                state.update(best_auc=_selection_key(entry), best_epoch=epoch, best_scores=scores)
                state["best_state"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            state["history"].append(entry)
            state.update(epoch=epoch, seconds=time.perf_counter() - start_time)
            self._checkpoint(model, optimizer, scheduler, state)
            if epoch - state["best_epoch"] >= cfg.patience:
                logger.info("early stop at epoch %d (best %d)", epoch, state["best_epoch"])
                break
        if run is not None:
            run.finish()
        model.load_state_dict(state["best_state"])
        return TrainResult(
            model=model.cpu().eval(),
            val_scores=state["best_scores"],
            best_epoch=state["best_epoch"],
            best_val_auc=state["best_auc"],
            history=state["history"],
            seconds=state["seconds"],
        )

    def _log_epoch(
        self,
        epoch: int,
        losses: list[float],
        val: TaskData,
        scores: np.ndarray,
        optimizer: torch.optim.Optimizer,
        start_time: float,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "epoch": epoch,
            "train_loss": float(np.mean(losses)) if losses else float("nan"),
            "val_macro_auc": macro_auc(val.y, scores, val.mask),
            "lr": float(optimizer.param_groups[0]["lr"]),
            "seconds": time.perf_counter() - start_time,
        }
        for task in dict.fromkeys(label.task for label in val.labels):
            cols = val.task_columns(task)
            entry[f"val_macro_auc_{task}"] = macro_auc(val.y[:, cols], scores[:, cols], val.mask[:, cols])
        if self.dist.main:
            with (self.work_dir / METRICS_LOG).open("a") as fh:
                fh.write(json.dumps(entry) + "\n")
            logger.info("epoch %d: %s", epoch, {k: round(v, 4) for k, v in entry.items() if isinstance(v, float)})
        return entry

    def _checkpoint(self, model: nn.Module, optimizer: Any, scheduler: Any, state: dict[str, Any]) -> None:
        if not self.dist.main:
            return
        payload = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "state": state,
            "config": self.config.to_dict(),
        }
        tmp = self.work_dir / f".{CHECKPOINT}.tmp"
        torch.save(payload, tmp)
        os.replace(tmp, self.work_dir / CHECKPOINT)

    def _resume(self, model: nn.Module, optimizer: Any, scheduler: Any) -> dict[str, Any]:
        path = self.work_dir / CHECKPOINT
        fresh: dict[str, Any] = {
            "epoch": 0,
            "best_epoch": 0,
            "best_auc": -np.inf,
            "best_scores": None,
            "best_state": None,
            "history": [],
            "seconds": 0.0,
        }
        if not path.is_file():
            return fresh
        payload = torch.load(path, map_location=self.device, weights_only=False)
        if payload["config"] != self.config.to_dict():
            raise CardioScreenError(f"{path} was written with another config; remove it or use another work dir")
        model.load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
        scheduler.load_state_dict(payload["scheduler"])
        logger.info("resuming from %s at epoch %d", path, payload["state"]["epoch"])
        state: dict[str, Any] = payload["state"]
        return state

    def _wandb(self, data: TaskData) -> Any:
        if not (self.config.wandb and self.dist.main):
            return None
        try:
            import wandb
        except ImportError as exc:
            raise CardioScreenError("--wandb needs the wandb package (pip install wandb)") from exc
        return wandb.init(project=self.config.wandb_project, config={**self.config.to_dict(), "n": len(data)})
