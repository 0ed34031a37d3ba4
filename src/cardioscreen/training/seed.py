"""The prototype's recipe, rebuilt without its leakage: one binary network per class, trained on beats.

For each class: every training record positive for it, plus at most ``cap`` records of every other class
(negative for it) and ``cap`` records without any of the task's classes; their beats (the prototype's
midpoint segmentation, 500 samples per beat) with ECG-SMOTE applied to the positive beats (training fold only);
focal loss (gamma 1.8), Adam (lr 3e-5) with ReduceLROnPlateau. A record's score is the mean over its beats.
Beats never leave their record's split, so nothing of a validation record reaches training.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
from torch import nn

from cardioscreen.datasets.preprocess import fit_length, recipe_fs
from cardioscreen.models.bundle import InputSpec
from cardioscreen.models.one_vs_rest import OneVsRest
from cardioscreen.training.data import TaskData
from cardioscreen.training.inference import probabilities
from cardioscreen.training.trainer import TrainConfig, Trainer, seed_everything

if TYPE_CHECKING:
    from cardioscreen.training.recipes import RunSpec

logger = logging.getLogger(__name__)

BEAT_SAMPLES = 500
"""Samples per beat (the prototype's)."""
LEADS12 = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def record_beats(x: np.ndarray, fs: float, n_samples: int = BEAT_SAMPLES) -> np.ndarray:
    """Beats of one normalised record ``x`` ``(12, samples)``: ``(n_beats, 12, n_samples)``, float32.

    A record where no R-peak is found gives one input: the whole record resampled to ``n_samples``.
    """
    from cardioscreen.signal.beats import ecg_beats
    from cardioscreen.signal.peaks import ecg_peaks

    peaks, _ = ecg_peaks(x, fs)
    if len(peaks) == 0:
        positions = np.linspace(0, x.shape[-1] - 1, n_samples)
        whole = np.stack([np.interp(positions, np.arange(x.shape[-1]), lead) for lead in x])
        return whole[None].astype(np.float32)
    beats, _ = ecg_beats(x, fs, peaks, n_samples=n_samples)
    return np.asarray(beats, dtype=np.float32)


def beats_of(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Beats of every record of ``x`` ``(n, 12, samples)`` and the record index (owner) of each beat."""
    per_record = [record_beats(record, fs) for record in x]
    owners = np.concatenate([np.full(len(b), i) for i, b in enumerate(per_record)])
    return np.concatenate(per_record), owners


def mean_by_owner(values: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``values`` rows per owner index in ``range(n)``."""
    sums = np.zeros((n, values.shape[1]))
    np.add.at(sums, owners, values)
    return sums / np.maximum(np.bincount(owners, minlength=n), 1)[:, None]


def predict_beats(model: nn.Module, x: np.ndarray, spec: InputSpec, batch_size: int = 256) -> np.ndarray:
    """Record probabilities ``(n, n_labels)``: the mean over each record's beats."""
    beats, owners = beats_of(x, spec.fs)
    return mean_by_owner(probabilities(model, fit_length(beats, spec.samples), batch_size), owners, len(x))


def sample_records(y: np.ndarray, mask: np.ndarray, column: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Record indices for the binary network of ``column``: all known positives, at most ``cap`` negatives of
    every other class, and at most ``cap`` known negatives without any class."""
    known = mask[:, column]
    positive = known & (y[:, column] > 0.5)
    negative = known & ~positive
    chosen = [np.flatnonzero(positive)]
    groups = [negative & (y[:, k] > 0.5) for k in range(y.shape[1]) if k != column]
    groups.append(negative & ~(y * mask > 0.5).any(axis=1))
    for group in groups:
        chosen.append(rng.permutation(np.flatnonzero(group))[:cap])
    return np.unique(np.concatenate(chosen))


def _beat_set(
    train: TaskData, beats: np.ndarray, owners: np.ndarray, rows: np.ndarray, column: int, seed: int
) -> TaskData:
    """Beats of the training records ``rows`` labelled for ``column``, ECG-SMOTE applied (pairs across records)."""
    from cardioscreen.augment.smote import EcgSmote

    take = np.isin(owners, rows)
    chosen, chosen_owners = beats[take], owners[take]
    labels = (train.y[chosen_owners, column] > 0.5).astype(np.int64)
    groups = train.ecg_ids[chosen_owners]
    flat, labels = EcgSmote(random_state=seed).fit_resample(chosen.reshape(len(chosen), -1), labels, groups)[:2]
    n = len(flat)
    return TaskData(
        x=np.asarray(flat, dtype=np.float32).reshape(n, *beats.shape[1:]),
        y=np.asarray(labels, dtype=np.float32)[:, None],
        mask=np.ones((n, 1), dtype=bool),
        labels=(train.labels[column],),
        ecg_ids=np.full(n, -1),
        patient_ids=np.full(n, -1),
        split=np.full(n, "train"),
        source=np.full(n, "beats"),
    )


def train_seed(
    run: RunSpec, config: TrainConfig, data: TaskData
) -> tuple[nn.Module, np.ndarray, InputSpec, dict[str, Any]]:
    """The ``seed`` recipe for :func:`cardioscreen.training.recipes.train_bundle`."""
    from cardioscreen.models.registry import create_model

    fs = recipe_fs(run.normalisation)
    spec = InputSpec(fs=fs, samples=BEAT_SAMPLES, recipe=run.normalisation, leads=LEADS12, kind="beats")
    train, val = data.in_split("train"), data.in_split("val")
    train_beats, train_owners = beats_of(train.x, fs)
    val_beats, val_owners = beats_of(val.x, fs)
    kwargs = {"num_classes": 2, **config.model_kwargs}
    rng = np.random.default_rng(config.seed)
    members: list[nn.Module] = []
    val_scores, seconds = np.zeros(val.y.shape), 0.0
    for column, label in enumerate(data.labels):
        rows = sample_records(train.y, train.mask, column, run.seed_cap, rng)
        beat_train = _beat_set(train, train_beats, train_owners, rows, column, config.seed + column)
        logger.info("seed recipe %s: %d records, %d beats", label.code, len(rows), len(beat_train))
        member_val = val.take(np.arange(len(val)))
        member_val = replace(member_val, y=val.y[:, [column]], mask=val.mask[:, [column]], labels=(label,))

        def score_val(net: nn.Module) -> np.ndarray:
            return mean_by_owner(probabilities(net, val_beats, config.eval_batch_size), val_owners, len(val))

        trainer = Trainer(replace(config, seed=config.seed + column), run.checkpoints / f"class_{column:02d}")
        seed_everything(config.seed + column)  # each member's initial weights follow the run's seed
        result = trainer.fit_arrays(
            OneVsRest([create_model(config.model, **kwargs)]), beat_train, member_val, score_val
        )
        assert isinstance(result.model, OneVsRest)
        members.append(result.model.members[0])
        val_scores[:, column] = result.val_scores[:, 0]
        seconds += result.seconds
    model_config = {"name": config.model, "kwargs": kwargs, "one_vs_rest": len(members)}
    return OneVsRest(members).eval(), val_scores, spec, {"model_config": model_config, "info": {"seconds": seconds}}
