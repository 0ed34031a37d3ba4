"""Training the rhythm classifier on PTB-XL's rhythm statements (``cardioscreen train-rhythm``).

Each record's label is its rhythm statement of highest priority in :data:`PRIORITY` (paced over flutter over
fibrillation ..., sinus rhythm last; ``PSVT`` counts as ``SVTAC``); records without one are left out. Every record
is seen through three lead sets (the 12 leads, lead II alone, leads II and V1), so that the classifier also
knows the features of 1- and 2-lead records, which are delineated by the DSP method instead of the hybrid one.
A multinomial logistic regression with partly balanced class weights is fitted on folds 1-8 and scored on
fold 9 (validation: the weights and the combination with the rules were chosen on it).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.rhythm.analysis import record_beats
from cardioscreen.rhythm.features import FEATURE_NAMES, window_features
from cardioscreen.rhythm.learned import RhythmModel
from cardioscreen.signal.clean import ecg_clean

logger = logging.getLogger(__name__)

__all__ = ["CLASSES", "LEAD_SETS", "PRIORITY", "RhythmData", "fit_model", "ptbxl_rhythm_data", "rhythm_label",
           "train_rhythm"]

PRIORITY = ("PACE", "AFLT", "AFIB", "SVTAC", "PSVT", "STACH", "SBRAD", "SARRH", "SR")
"""Rhythm statements in the order one is chosen as a record's label."""
CLASSES = ("SR", "SBRAD", "STACH", "SARRH", "AFIB", "AFLT", "SVTAC", "PACE")
"""The classifier's outputs."""
LEAD_SETS: dict[str, tuple[str, ...]] = {"12": STANDARD_LEADS, "II": ("II",), "II+V1": ("II", "V1")}
"""Lead sets each training record is seen through."""
TRAIN_FOLDS = tuple(range(1, 9))
VALIDATION_FOLDS = (9,)
RECORD_FS = 500


def rhythm_label(scp_codes: Mapping[str, float]) -> str | None:
    """The rhythm class of a PTB-XL record from its ``scp_codes`` (``None`` without a rhythm statement)."""
    code = next((c for c in PRIORITY if c in scp_codes), None)
    return "SVTAC" if code == "PSVT" else code


@dataclass(frozen=True)
class RhythmData:
    """Features of labelled records: ``X`` ``(n, n_features)``, labels ``y`` ``(n,)``, ``ecg_id``, ``fold`` and
    ``lead_set`` per row."""

    X: np.ndarray
    y: np.ndarray
    ecg_id: np.ndarray
    fold: np.ndarray
    lead_set: np.ndarray

    def rows(self, mask: np.ndarray) -> RhythmData:
        return RhythmData(self.X[mask], self.y[mask], self.ecg_id[mask], self.fold[mask], self.lead_set[mask])


def ptbxl_rhythm_data(root: str | Path, folds: Sequence[int], lead_sets: Sequence[str] = tuple(LEAD_SETS)
                      ) -> RhythmData:
    """Rhythm features of the PTB-XL records in ``folds`` with a rhythm statement, one row per lead set.

    Parameters
    ----------
    root : str or Path
        A PTB-XL folder (``ptbxl_database.csv``, ``records500/``).
    folds : sequence of int
        ``strat_fold`` values to read.
    lead_sets : sequence of str
        Keys of :data:`LEAD_SETS`.

    Returns
    -------
    RhythmData
    """
    ds = PTBXL.load(root).in_folds(folds)
    rows: list[np.ndarray] = []
    meta: list[tuple[str, int, int, str]] = []
    for ecg_id, codes, fold in tqdm(list(zip(ds.ecg_ids, ds.meta["scp_codes"], ds.folds, strict=True)),
                                    desc="rhythm features", disable=None):
        label = rhythm_label(codes)
        if label is None:
            continue
        raw = ds.read_signal(int(ecg_id), RECORD_FS).astype(np.float64)
        for name in lead_sets:
            rows_of = [STANDARD_LEADS.index(lead) for lead in LEAD_SETS[name]]
            x = raw[rows_of]
            table = record_beats(ecg_clean(x, RECORD_FS), RECORD_FS, LEAD_SETS[name], raw=x)
            rows.append(window_features(table, np.arange(table.n_beats)))
            meta.append((label, int(ecg_id), int(fold), name))
    X = np.array(rows, dtype=np.float64).reshape(-1, len(FEATURE_NAMES))
    labels, ids, fold_of, sets = (np.array(col) for col in zip(*meta, strict=True)) if meta else (
        np.zeros(0, dtype=str), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=str))
    return RhythmData(X=X, y=labels, ecg_id=ids, fold=fold_of, lead_set=sets)


def fit_model(data: RhythmData, C: float = 1.0, balance: float = 0.5, meta: dict[str, Any] | None = None
              ) -> RhythmModel:
    """A multinomial logistic regression on ``data``, as a :class:`RhythmModel`.

    Missing features take the training median; features are standardised on the training rows. Class ``c``
    weighs ``(n_largest / n_c) ** balance`` (0: unweighted, 1: balanced).
    """
    from sklearn.linear_model import LogisticRegression

    classes = [c for c in CLASSES if c in set(data.y)]
    fill = np.nanmedian(data.X, axis=0)
    fill = np.where(np.isfinite(fill), fill, 0.0)
    X = np.where(np.isfinite(data.X), data.X, fill)
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    counts = {c: int(np.sum(data.y == c)) for c in classes}
    weights = {c: (max(counts.values()) / n) ** balance for c, n in counts.items()}
    clf = LogisticRegression(C=C, class_weight=weights, max_iter=5000)
    clf.fit((X - mean) / scale, data.y)
    order = [list(clf.classes_).index(c) for c in classes]
    return RhythmModel(classes=tuple(classes), feature_names=FEATURE_NAMES, fill=fill, mean=mean, scale=scale,
                       coef=clf.coef_[order], intercept=clf.intercept_[order], meta=dict(meta or {}))


def per_class_scores(model: RhythmModel, data: RhythmData) -> dict[str, dict[str, float]]:
    """Sensitivity and specificity of the classifier's top class, per class with at least one record in ``data``."""
    predicted = np.array(model.classes)[np.argmax(model.predict_proba(data.X), axis=1)]
    out = {}
    for c in model.classes:
        pos = data.y == c
        if pos.any():
            out[c] = {"n": int(pos.sum()), "sensitivity": float(np.mean(predicted[pos] == c)),
                      "specificity": float(np.mean(predicted[~pos] != c))}
    return out


def train_rhythm(data_dir: str | Path, out: str | Path, *, C: float = 1.0, balance: float = 0.5) -> RhythmModel:
    """Fit the classifier on PTB-XL folds 1-8 of ``data_dir``, score it on fold 9 and write it to ``out``."""
    train = ptbxl_rhythm_data(data_dir, TRAIN_FOLDS)
    validation = ptbxl_rhythm_data(data_dir, VALIDATION_FOLDS)
    meta: dict[str, Any] = {"data": "PTB-XL rhythm statements, 500 Hz records", "train_folds": list(TRAIN_FOLDS),
                            "validation_folds": list(VALIDATION_FOLDS), "lead_sets": list(LEAD_SETS), "C": C,
                            "balance": balance, "train_rows": int(train.y.size)}
    model = fit_model(train, C=C, balance=balance, meta=meta)
    if validation.y.size:
        model.meta["validation"] = per_class_scores(model, validation)
    model.save(out)
    logger.info("rhythm model written to %s (%d training rows)", out, train.y.size)
    return model
