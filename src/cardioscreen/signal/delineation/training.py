"""Training the U-Net delineator on LUDB's per-lead marks (labels: P, QRS, ST-T; outside the marked span: ignored).

``python -m cardioscreen.signal.delineation.training LUDB_DIR OUT.safetensors`` trains on every record found and
writes the weights with their ``.json`` metadata and the ONNX graph inference runs (``.onnx`` + its stamp);
:func:`train_unet` is what the benchmark calls per fold.
Augmentation: Gaussian noise, baseline wander, per-lead amplitude scaling, random 8.2 s crops.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cardioscreen.signal.delineation.fiducials import FIDUCIAL_INDEX
from cardioscreen.signal.delineation.learned import (
    MODEL_FS,
    N_CLASSES,
    N_LEADS,
    PREPROCESSING,
    build_unet,
    export_onnx,
    preprocess,
)
from cardioscreen.signal.delineation.reference import read_ludb_marks

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

IGNORE = -100


@dataclass(frozen=True)
class TrainConfig:
    """U-Net training settings."""

    channels: tuple[int, ...] = (8, 16, 24, 32)
    kernel: int = 9
    dec_kernel: int = 5
    steps: int = 700
    batch: int = 12
    crop: int = 1024
    lr: float = 3e-3
    noise: float = 0.05
    wander_mv: float = 0.3
    scale: tuple[float, float] = (0.6, 1.6)
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.crop % 8 or self.crop <= 0:
            raise ValueError(f"crop must be a positive multiple of 8, got {self.crop}")
        if self.steps <= 0 or self.batch <= 0 or self.lr <= 0:
            raise ValueError("steps, batch and lr must be positive")


def labels_from_marks(per_lead: np.ndarray, n: int) -> np.ndarray:
    """Per lead and sample (at ``MODEL_FS``): 0 background, 1 P, 2 QRS, 3 ST-T, IGNORE outside the marked span.

    ``per_lead`` is :func:`read_ludb_marks`'s ``(beats, 12, 7)`` array at 500 Hz.
    """
    F = FIDUCIAL_INDEX
    marks = per_lead * MODEL_FS / 500.0
    y = np.full((per_lead.shape[1], n), IGNORE, dtype=np.int64)
    for lead in range(per_lead.shape[1]):
        m = marks[:, lead]
        if not np.isfinite(m).any():
            continue
        lo, hi = int(np.nanmin(m)), min(int(np.nanmax(m)), n - 1)
        y[lead, lo : hi + 1] = 0
        for on, off, cls in ((F["p_on"], F["p_off"], 1), (F["qrs_on"], F["qrs_off"], 2), (F["qrs_off"], F["t_off"], 3)):
            for a, b in m[:, [on, off]]:
                if np.isfinite(a) and np.isfinite(b) and b > a:
                    y[lead, int(round(a)) + (cls == 3) : int(round(b)) + 1] = cls
    return y


def load_ludb(ludb: Path, ids: list[int]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """``(raw mV (12, samples) at 500 Hz, preprocessed (12, n) at ``MODEL_FS``, labels (12, n))`` per record."""
    import wfdb

    out = []
    for rec_id in ids:
        rec = wfdb.rdrecord(str(ludb / str(rec_id)))
        raw = np.asarray(rec.p_signal.T, dtype=float)
        x = preprocess(raw, float(rec.fs))
        per_lead, _ = read_ludb_marks(ludb / str(rec_id))
        out.append((raw, x, labels_from_marks(per_lead, x.shape[-1])))
    return out


def _augment(raw: np.ndarray, rng: np.random.Generator, cfg: TrainConfig) -> np.ndarray:
    t = np.arange(raw.shape[-1]) / 500.0
    wander = cfg.wander_mv * rng.uniform(0, 1) * np.sin(2 * np.pi * rng.uniform(0.05, 0.5) * t + rng.uniform(0, 6.3))
    scaled = raw * rng.uniform(*cfg.scale, size=(raw.shape[0], 1)) + wander
    x = preprocess(scaled, 500.0)
    return x + rng.normal(0.0, cfg.noise * rng.uniform(0, 1), x.shape).astype(np.float32)


def train_unet(
    data: list[tuple[np.ndarray, np.ndarray, np.ndarray]], cfg: TrainConfig | None = None
) -> torch.nn.Module:
    """Train a U-Net on ``load_ludb`` records; returns the model in eval mode."""
    import torch

    cfg = cfg or TrainConfig()
    torch.manual_seed(cfg.random_state)
    rng = np.random.default_rng(cfg.random_state)
    model = build_unet(cfg.channels, cfg.kernel, cfg.dec_kernel)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.steps)
    start = time.perf_counter()
    model.train()
    for step in range(cfg.steps):
        xs, ys = [], []
        for i in rng.integers(0, len(data), cfg.batch):
            raw, _, y = data[i]
            x = _augment(raw, rng, cfg)
            n = min(x.shape[-1], y.shape[-1])
            a = int(rng.integers(0, max(n - cfg.crop, 0) + 1))
            xs.append(x[:, a : a + cfg.crop])
            ys.append(y[:, a : a + cfg.crop])
        xb, yb = torch.from_numpy(np.stack(xs)), torch.from_numpy(np.stack(ys))
        logits = model(xb).reshape(cfg.batch, N_LEADS, N_CLASSES, -1).permute(0, 2, 1, 3)
        loss = torch.nn.functional.cross_entropy(logits, yb, ignore_index=IGNORE)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0:
            logger.info("step %d loss %.4f (%.0f s)", step, loss.item(), time.perf_counter() - start)
    model.eval()
    return model


def save_unet(model: torch.nn.Module, cfg: TrainConfig, path: Path, extra: dict[str, Any]) -> None:
    """Write ``path`` (safetensors) and its ``.json`` metadata (architecture, training settings, ``extra``)."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    meta = {"channels": list(cfg.channels), "kernel": cfg.kernel, "dec_kernel": cfg.dec_kernel, "fs": MODEL_FS,
            "classes": ["none", "p", "qrs", "st_t"], "preprocessing": PREPROCESSING, "train": asdict(cfg), **extra}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="train the U-Net delineator on LUDB")
    parser.add_argument("ludb", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", type=int, default=TrainConfig().steps)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    torch.set_num_threads(1)
    ids = sorted(int(p.stem) for p in args.ludb.glob("*.hea"))
    cfg = TrainConfig(steps=args.steps)
    model = train_unet(load_ludb(args.ludb, ids), cfg)
    save_unet(model, cfg, args.out, {"records": ids, "data": "LUDB 1.0.1 (ODC-By 1.0), per-lead marks"})
    export_onnx(str(args.out), save=True)  # the ONNX Runtime graph (and its stamp) beside the new weights
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
