"""Training recipes that end in a model bundle: ``multilabel`` (one network) and ``seed`` (17 binary networks).

``train_bundle`` is what ``cardioscreen train`` calls: load the data, train by the recipe, tune per-class
thresholds on validation, compute validation metrics with 90% bootstrap intervals and a class-prior baseline,
and write the bundle.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.datasets.preprocess import recipe_fs
from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import InputSpec, content_hash, load_bundle, save_bundle
from cardioscreen.training.data import FoldSpec, TaskData, load_training_data
from cardioscreen.training.evaluate import PRIOR_KEY, evaluated_rows
from cardioscreen.training.metrics import evaluate_scores, prior_baseline, tune_thresholds
from cardioscreen.training.trainer import METRICS_LOG, TrainConfig, Trainer, seed_everything

logger = logging.getLogger(__name__)

DEFAULT_SEED_CAP = 100
"""Records drawn per other class for each network of the seed recipe."""
RECIPE_NAMES = ("multilabel", "seed")
"""Keys of the recipe table (``cardioscreen train --recipe``)."""


@dataclass(frozen=True)
class RunSpec:
    """What to train on and where the bundle goes."""

    data_dir: Path
    out: Path
    tasks: tuple[str, ...] = ("seed17", "superdiagnostic")
    recipe: str = "multilabel"
    extra_dirs: tuple[Path, ...] = ()
    folds: FoldSpec = field(default_factory=FoldSpec)
    normalisation: str = "z100"
    max_records: int | None = None
    cache_dir: Path | None = None
    work_dir: Path | None = None
    n_boot: int = 1000
    keep_checkpoints: bool = False
    seed_cap: int = DEFAULT_SEED_CAP
    init_from: Path | None = None
    """A bundle whose network (architecture and weights) the multilabel recipe starts from (fine-tuning)."""

    def __post_init__(self) -> None:
        if self.recipe not in RECIPE_NAMES:
            raise CardioScreenError(f"unknown recipe {self.recipe!r}; choose one of {RECIPE_NAMES}")
        if self.init_from is not None and self.recipe != "multilabel":
            raise CardioScreenError("--init-from fine-tunes a multilabel bundle; the seed recipe trains from scratch")
        if not self.tasks:
            raise CardioScreenError("at least one label task is needed")

    @property
    def checkpoints(self) -> Path:
        return self.work_dir or self.out.with_name(self.out.name + ".work")


def train_prevalence(data: TaskData) -> np.ndarray:
    """Fraction of known-positive training labels per column (the class-prior baseline's scores)."""
    train = data.in_split("train")
    known = train.mask.sum(axis=0)
    return np.asarray(((train.y > 0.5) & train.mask).sum(axis=0) / np.maximum(known, 1), dtype=np.float64)


def validation_metrics(
    data: TaskData,
    scores: np.ndarray,
    thresholds: np.ndarray,
    n_boot: int,
    seed: int = 0,
    source: str | None = None,
) -> dict[str, Any]:
    """Per task: validation figures with 90% CIs and the class-prior baseline beside them.

    ``scores`` are aligned with ``data.in_split("val")``; ``source`` restricts to records of one folder kind.
    """
    train, val = data.in_split("train"), data.in_split("val")
    if source is not None:
        scores = scores[val.source == source]
        val = val.take(val.source == source)
    out: dict[str, Any] = {}
    for task in dict.fromkeys(label.task for label in data.labels):
        cols = data.task_columns(task)
        classes = [data.labels[c].code for c in cols]
        rows = np.flatnonzero(evaluated_rows(task, val.y[:, cols], val.mask[:, cols]))
        y, m, s = val.y[rows][:, cols], val.mask[rows][:, cols], scores[rows][:, cols]
        figures = evaluate_scores(y, s, classes, thresholds[cols], m, n_boot=n_boot, seed=seed)
        base = prior_baseline(train.y[:, cols], train.mask[:, cols], y, classes, m, n_boot=n_boot, seed=seed)
        figures["baseline"] = {k: base[k] for k in ("macro_auc", "macro_f1", "macro_f1_ci")}
        out[task] = figures
    return out


def _multilabel(run: RunSpec, config: TrainConfig, data: TaskData) -> tuple[Any, np.ndarray, InputSpec, dict]:
    from cardioscreen.models.registry import create_model

    trainer = Trainer(config, run.checkpoints)
    spec = trainer.input_spec(data, recipe_fs(run.normalisation), run.normalisation)
    kwargs = {"num_classes": len(data.labels), "in_channels": data.x.shape[1], **config.model_kwargs}
    seed_everything(config.seed)  # the initial weights follow the run's seed, not whatever ran before
    if run.init_from is not None:
        model, model_config, start = _start_from(run.init_from, data, spec)
    else:
        model, model_config, start = create_model(config.model, **kwargs), {"name": config.model, "kwargs": kwargs}, {}
    result = trainer.fit(model, data, spec)
    info = {"best_epoch": result.best_epoch, "seconds": result.seconds, "epochs_run": len(result.history), **start}
    return result.model, result.val_scores, spec, {"model_config": model_config, "info": info}


def _start_from(path: Path, data: TaskData, spec: InputSpec) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """The network of the bundle at ``path`` (its weights, for fine-tuning), its model config, and the training
    note naming it; a clear error where its classes or input differ from this run's."""
    bundle = load_bundle(path)
    if bundle.labels != data.labels:
        raise CardioScreenError(f"bundle {path} predicts {len(bundle.labels)} classes of tasks {bundle.tasks}; this "
                                "run trains other classes (give the same --task)")
    theirs, ours = bundle.input_spec, spec
    if (theirs.fs, theirs.samples, theirs.recipe, theirs.leads) != (ours.fs, ours.samples, ours.recipe, ours.leads):
        raise CardioScreenError(f"bundle {path} takes {theirs.samples} samples at {theirs.fs:g} Hz ({theirs.recipe}); "
                                f"this run makes {ours.samples} at {ours.fs:g} Hz ({ours.recipe})")
    note = {"init_from": {"bundle": str(path), "model_version": content_hash(path)}}
    return bundle.model.train(), dict(bundle.manifest["model"]), note


def _seed(run: RunSpec, config: TrainConfig, data: TaskData) -> tuple[Any, np.ndarray, InputSpec, dict]:
    from cardioscreen.training.seed import train_seed

    return train_seed(run, config, data)


_RECIPES: dict[str, Callable[[RunSpec, TrainConfig, TaskData], tuple[Any, np.ndarray, InputSpec, dict]]] = {
    "multilabel": _multilabel,
    "seed": _seed,
}


def train_bundle(run: RunSpec, config: TrainConfig, data: TaskData | None = None) -> Path:
    """Train by ``run.recipe`` and write the bundle to ``run.out``; returns its path."""
    data = data or load_training_data(
        run.data_dir,
        run.tasks,
        extra_dirs=run.extra_dirs,
        folds=run.folds,
        recipe=run.normalisation,
        cache_dir=run.cache_dir,
        max_records=run.max_records,
        seed=config.seed,
    )
    model, val_scores, spec, extra = _RECIPES[run.recipe](run, config, data)
    val = data.in_split("val")
    thresholds = tune_thresholds(val.y, val_scores, val.mask)
    metrics = {"validation": validation_metrics(data, val_scores, thresholds, run.n_boot, config.seed)}
    if len(set(val.source)) > 1:
        for source in sorted(set(val.source)):
            figures = validation_metrics(data, val_scores, thresholds, run.n_boot, config.seed, source)
            metrics[f"validation_{source}"] = figures
    training = {
        "recipe": run.recipe,
        "tasks": list(run.tasks),
        "data": [str(run.data_dir), *map(str, run.extra_dirs)],
        "folds": {"train": list(run.folds.train), "val": list(run.folds.val), "test": list(run.folds.test)},
        "n_records": {s: int((data.split == s).sum()) for s in ("train", "val")},
        "max_records": run.max_records,
        PRIOR_KEY: train_prevalence(data).tolist(),
        "config": config.to_dict(),
        **extra["info"],
    }
    save_bundle(
        run.out,
        model,
        model_config=extra["model_config"],
        labels=data.labels,
        thresholds=thresholds,
        input_spec=spec,
        training_config=training,
        metrics=metrics,
    )
    log = run.checkpoints / METRICS_LOG
    if log.is_file():
        shutil.copyfile(log, run.out / METRICS_LOG)
    if not run.keep_checkpoints:
        shutil.rmtree(run.checkpoints, ignore_errors=True)
    logger.info("wrote bundle %s", run.out)
    return run.out


def parse_tasks(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"seed17,superdiagnostic"`` -> ``("seed17", "superdiagnostic")``."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    return tuple(p.strip() for p in parts if p.strip())
