"""Inputs of the ensemble for normalised records: the network's probabilities and embeddings, and features.

The embedding of a record is the mean of ``forward_features`` over its network inputs (windows or beats, as
the bundle's :class:`~cardioscreen.models.bundle.InputSpec` says); its probabilities are aggregated the bundle's
way (mean or max). The hand-made features are :func:`cardioscreen.features.aggregate.record_features` on the
record's beats (NaN where no beat is found; CatBoost takes NaN).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from cardioscreen.datasets.preprocess import fit_length, windows
from cardioscreen.models.bundle import Bundle, InputSpec

if TYPE_CHECKING:
    import torch
    from torch import nn

logger = logging.getLogger(__name__)


def _network_inputs(record: np.ndarray, spec: InputSpec) -> np.ndarray:
    if spec.kind == "beats":
        from cardioscreen.training.seed import record_beats

        return fit_length(record_beats(record, spec.fs), spec.samples)
    return windows(record, spec.samples, spec.stride)


def _features_and_logits(model: nn.Module, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``forward_features`` and ``forward_head`` of a bundle's network (a registry network or a OneVsRest)."""
    features = model.forward_features(batch)  # type: ignore[operator]
    return features, model.forward_head(features)  # type: ignore[operator]


def network_outputs(bundle: Bundle, x: np.ndarray, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities ``(n, n_labels)`` and embeddings ``(n, D)`` of normalised records ``x`` ``(n, 12, samples)``."""
    import torch

    spec, model = bundle.input_spec, bundle.model.eval()
    parts = [_network_inputs(record, spec) for record in x]
    owners = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])
    flat = np.concatenate(parts).astype(np.float32, copy=False)
    feats, probs = [], []
    for start in range(0, len(flat), batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(flat[start : start + batch_size]))
        with torch.no_grad():
            f, logits = _features_and_logits(model, batch)
        feats.append(f.numpy())
        probs.append(torch.sigmoid(logits).numpy())
    all_feats, all_probs = np.concatenate(feats), np.concatenate(probs)
    bounds = np.cumsum([0, *np.bincount(owners, minlength=len(x))])
    record_probs = np.stack(
        [spec.aggregate_outputs(all_probs[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    )
    record_feats = np.stack([all_feats[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])
    return record_probs.astype(np.float64), record_feats.astype(np.float64)


def peaks_at(r_peaks: np.ndarray, fs: float, target_fs: float, n_samples: int) -> np.ndarray:
    """R-peak sample indices found at ``fs`` Hz as indices of the same record resampled to ``target_fs`` Hz
    (``n_samples`` long: :func:`~cardioscreen.datasets.preprocess.normalise` keeps sample 0 in place), rounded,
    in range and without repeats."""
    moved = np.round(np.asarray(r_peaks, dtype=np.float64) * (target_fs / fs)).astype(np.int64)
    return np.unique(np.clip(moved, 0, n_samples - 1))


def record_feature_matrix(
    x: np.ndarray, fs: float, leads: Sequence[str], width: int | None = None,
    r_peaks: Sequence[np.ndarray | None] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Time/frequency and rhythm features ``(n, F)`` of records ``x`` ``(n, leads, samples)`` at ``fs`` Hz.

    The beats are cut around each record's R-peaks: ``r_peaks[i]``, sample indices at ``fs`` (the record's own
    R-peaks, measured on its millivolts and moved with :func:`peaks_at`), where given; else (None, or no list)
    they are found on ``x[i]`` itself, as for ptbxl-z100 records, which have no millivolts. A record with fewer
    than two R-peaks gets NaN features. When no record has beats, the column count cannot be learnt from the
    data: ``width`` (the fitted model's) gives it, and the names come back empty.
    """
    from cardioscreen.features.aggregate import record_features
    from cardioscreen.signal.beats import ecg_beats
    from cardioscreen.signal.peaks import ecg_peaks

    if r_peaks is not None and len(r_peaks) != len(x):
        raise ValueError(f"R-peaks of {len(r_peaks)} records for {len(x)} records")
    rows: list[np.ndarray | None] = []
    names: list[str] = []
    beat_samples = int(round(fs))
    for i, record in enumerate(x):
        given = None if r_peaks is None else r_peaks[i]
        peaks = ecg_peaks(record, fs)[0] if given is None else np.asarray(given, dtype=np.int64)
        if len(peaks) < 2:
            rows.append(None)
            continue
        beats, _ = ecg_beats(record, fs, peaks, n_samples=beat_samples)
        values, names = record_features(beats, fs, leads, peaks, fs)
        rows.append(values)
    if names:
        width = len(names)
    elif width is None:
        raise ValueError("no record of the batch has two R-peaks and no feature width was given")
    missing = sum(r is None for r in rows)
    if missing:
        logger.info("%d of %d records without beats get NaN features", missing, len(rows))
    return np.stack([np.full(width, np.nan) if r is None else r for r in rows]), names
