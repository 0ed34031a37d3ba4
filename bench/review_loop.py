"""A simulated clinic learning from its doctors' reviews (issue 15): the learning curve a clinic would see.

Start from a model trained on part of the training folds (1-8 of ``ptbxl/`` + ``ptbxl-z100/``); feed the remaining
training records as "reviews" in batches, with their PTB-XL labels as the doctors' verdicts; after each batch,
fine-tune from the previous model (``train --init-from``) on the starting records plus every review so far; print
fold-9 macro-AUC per task with its 90 % bootstrap interval after each step. A review labels what a doctor sees: the
classes the current model flags (confirmed or rejected) and the true classes it missed (added); every other class
of a reviewed record is unknown (masked, as ``reviews export`` writes it), not negative. Fold 9 is validation (the
recipe's epochs and thresholds are chosen on it), so the figures are the network's validation figures, not a test.

Environment:
  CARDIOSCREEN_REVIEW_START    training records of the starting model (default 1000; drawn at random, patient-wise
                               rows of folds 1-8)
  CARDIOSCREEN_REVIEW_BATCH    records per batch of reviews (default 250)
  CARDIOSCREEN_REVIEW_STEPS    batches to feed (default: until the training folds run out)
  CARDIOSCREEN_REVIEW_EPOCHS   epochs of the starting model (default 15)
  CARDIOSCREEN_REVIEW_TUNE     epochs of each fine-tuning step (default 3)
  CARDIOSCREEN_REVIEW_BOOT     bootstrap resamples of the intervals (default 1000)
  CARDIOSCREEN_REVIEW_LABELS   "review" (default: known where flagged or present) or "full" (every PTB-XL label
                               known: a doctor who rules on every class), to tell the masking from the recipe
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import SHARED_DATA
from cardioscreen.models.bundle import load_bundle
from cardioscreen.training.data import TaskData, concat, load_training_data
from cardioscreen.training.inference import predict_inputs
from cardioscreen.training.recipes import RunSpec, train_bundle
from cardioscreen.training.trainer import TrainConfig

TASKS = ("seed17", "superdiagnostic")
AUGMENT = ("amplitude", "baseline", "noise", "lead_dropout", "time_scale", "bandpass")


def _env(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def reviewed(batch: TaskData, bundle_path: Path) -> TaskData:
    """``batch`` labelled as reviews of the model at ``bundle_path``: known where it flags a class (the doctor
    confirms or rejects) or where the class is present (confirmed, or added by the doctor)."""
    bundle = load_bundle(bundle_path)
    flags = predict_inputs(bundle, np.asarray(batch.x)) >= bundle.thresholds
    known = batch.mask & (flags | (batch.y > 0.5))
    return TaskData(x=batch.x, y=batch.y, mask=known, labels=batch.labels, ecg_ids=batch.ecg_ids,
                    patient_ids=batch.patient_ids, split=batch.split, source=batch.source)


def _full(batch: TaskData, bundle_path: Path) -> TaskData:
    """``batch`` with every PTB-XL label known (a doctor who rules on every class)."""
    return batch


LABELLINGS = {"review": reviewed, "full": _full}


def _step(name: str, data: TaskData, config: TrainConfig, out: Path, n_boot: int, init_from: Path | None) -> Path:
    start = time.perf_counter()
    run = RunSpec(data_dir=SHARED_DATA / "ptbxl", out=out, tasks=TASKS, n_boot=n_boot, init_from=init_from)
    train_bundle(run, config, data)
    metrics = load_bundle(out, lazy_model=True).metrics["validation"]
    train = data.in_split("train")
    figures = "  ".join(f"{task} {metrics[task]['macro_auc']:.3f} [{metrics[task]['macro_auc_ci'][0]:.3f}, "
                        f"{metrics[task]['macro_auc_ci'][1]:.3f}]" for task in TASKS)
    print(f"{name:<14} train records {len(train):>5} (labels known {train.mask.mean():.0%})  fold-9 macro-AUC "
          f"{figures}  ({time.perf_counter() - start:.0f} s)", flush=True)
    return out


def main() -> None:
    start_n, batch_n = _env("CARDIOSCREEN_REVIEW_START", 1000), _env("CARDIOSCREEN_REVIEW_BATCH", 250)
    n_boot = _env("CARDIOSCREEN_REVIEW_BOOT", 1000)
    labelling = os.environ.get("CARDIOSCREEN_REVIEW_LABELS") or "review"
    if labelling not in LABELLINGS:
        raise SystemExit(f"CARDIOSCREEN_REVIEW_LABELS must be one of {', '.join(LABELLINGS)}, not {labelling!r}")
    data = load_training_data(SHARED_DATA / "ptbxl", TASKS, extra_dirs=[SHARED_DATA / "ptbxl-z100"])
    val, train = data.in_split("val"), data.in_split("train")
    order = np.random.default_rng(0).permutation(len(train))
    pool = order[start_n:]
    steps = _env("CARDIOSCREEN_REVIEW_STEPS", int(np.ceil(len(pool) / batch_n)))
    base = TrainConfig(model="convnext1d", epochs=_env("CARDIOSCREEN_REVIEW_EPOCHS", 15), augment=AUGMENT)
    tune = TrainConfig(model="convnext1d", epochs=_env("CARDIOSCREEN_REVIEW_TUNE", 3), lr=3e-4, augment=AUGMENT)
    print(f"start {start_n} records, {steps} batches of {batch_n} reviews ({labelling} labels), fold 9 "
          f"(validation): {len(val)} records")
    with tempfile.TemporaryDirectory() as tmp:
        known = train.take(np.sort(order[:start_n]))
        current = _step("start", concat([known, val]), base, Path(tmp) / "step0", n_boot, None)
        for step in range(1, steps + 1):
            batch = train.take(np.sort(pool[(step - 1) * batch_n : step * batch_n]))
            if len(batch) == 0:
                break
            known = concat([known, LABELLINGS[labelling](batch, current)])
            current = _step(f"+{len(known) - start_n} reviews", concat([known, val]), tune,
                            Path(tmp) / f"step{step}", n_boot, current)
