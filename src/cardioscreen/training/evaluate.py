"""Evaluate a bundle on the records of chosen folds of a PTB-XL-layout or ptbxl-z100 folder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.datasets.z100 import RECIPE as Z100_RECIPE
from cardioscreen.datasets.z100 import Z100
from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import Bundle
from cardioscreen.training.data import PTBXL_READ_FS
from cardioscreen.training.inference import predict_inputs
from cardioscreen.training.metrics import evaluate_scores

PRIOR_KEY = "train_prevalence"
"""Manifest ``training`` key holding each label's training prevalence (the naive baseline's scores)."""


def evaluated_rows(task: str, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Bool per record: counted for ``task``. Records with no known label are left out, and for the benchmark
    tasks other than ``seed17`` also those without a positive label (as the PTB-XL benchmark does)."""
    known = np.asarray(mask.any(axis=1))
    return known if task == "seed17" else np.asarray(known & ((y * mask).sum(axis=1) > 0))


def load_eval_set(
    data_dir: Path, bundle: Bundle, task: str, folds: Sequence[int], cache_dir: Path | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Inputs ``x`` (normalised records), labels ``y``, ``mask`` and ecg ids for ``task``'s columns of ``bundle``."""
    cols = bundle.task_columns(task)
    if len(cols) == 0:
        raise CardioScreenError(f"bundle {bundle.path} has no {task!r} outputs; it has {list(bundle.tasks)}")
    classes = [bundle.labels[c].code for c in cols]
    spec = bundle.input_spec
    dataset: PTBXL | Z100
    if Z100.is_z100(data_dir):
        if spec.recipe != Z100_RECIPE:
            raise CardioScreenError(f"{data_dir} is z100-normalised; bundle {bundle.path} wants {spec.recipe!r}")
        dataset = Z100.load(data_dir).in_folds(folds)
        x = dataset.signals()
    else:
        dataset = PTBXL.load(data_dir).in_folds(folds)
        x = np.asarray(dataset.signals(PTBXL_READ_FS, recipe=spec.recipe, cache_dir=cache_dir))
    if len(dataset) == 0:
        raise CardioScreenError(f"no records of folds {list(folds)} in {data_dir}")
    labels = dataset.labels(task, classes)
    return x, labels.y, labels.mask, dataset.ecg_ids


def evaluate_bundle(
    bundle: Bundle,
    data_dir: Path,
    *,
    task: str = "seed17",
    folds: Sequence[int] = (10,),
    n_boot: int = 1000,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Record-level figures of ``bundle`` on ``task`` with 90% bootstrap intervals and the class-prior baseline.

    Records are chosen by :func:`evaluated_rows`.
    """
    x, y, mask, _ = load_eval_set(data_dir, bundle, task, folds, cache_dir)
    cols = bundle.task_columns(task)
    keep = evaluated_rows(task, y, mask)
    x, y, mask = x[keep], y[keep], mask[keep]
    scores = predict_inputs(bundle, x)[:, cols]
    classes = [bundle.labels[c].code for c in cols]
    thresholds = bundle.thresholds[cols]
    out = evaluate_scores(y, scores, classes, thresholds, mask, n_boot=n_boot)
    prior = bundle.manifest.get("training", {}).get(PRIOR_KEY)
    if prior is not None:
        constant = np.broadcast_to(np.asarray(prior, dtype=np.float64)[cols], y.shape).copy()
        base = evaluate_scores(y, constant, classes, constant[0], mask, n_boot=n_boot)
        out["baseline"] = {k: base[k] for k in ("macro_auc", "macro_f1", "macro_f1_ci")}
    out.update(task=task, folds=list(folds), data=str(data_dir), model=str(bundle.path))
    return out
