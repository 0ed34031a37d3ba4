"""Which classes the model can assess: enough training positives and a validation AUC that holds up.

A class is *not assessed* (never flagged; shown as "not assessed by this model") when the network saw fewer than
:data:`MIN_TRAIN_POSITIVES` positives of it in training, or when the lower end of the 90 % bootstrap interval of
its validation AUC is below :data:`MIN_AUC_LOWER` (this includes a class with no validation positive at all, whose
AUC cannot be measured). The reason is kept with the class, in the bundle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cardioscreen.models.bundle import Label
from cardioscreen.training.metrics import binary_auc, bootstrap_ci

MIN_TRAIN_POSITIVES = 20
"""Fewest training positives of a class the model is trusted to have learnt."""
MIN_AUC_LOWER = 0.6
"""Lowest acceptable lower end of the 90 % bootstrap interval of a class's validation AUC."""


@dataclass(frozen=True)
class ClassAssessment:
    """Whether one output of the model is assessed, and the figures behind it.

    Attributes
    ----------
    code, task : str
        The output's class code and label task.
    train_positives : int
        Training positives of the class (see :func:`training_positives`).
    val_positives : int or None
        Validation positives among the known labels (None when no validation was run on it).
    val_auc : float or None
        Validation AUC of the reported output (None without validation positives and negatives).
    val_auc_ci : list of float or None
        Its 90 % bootstrap interval ``[low, high]``.
    reason : str
        Why the class is not assessed; empty when it is.
    """

    code: str
    task: str
    train_positives: int
    val_positives: int | None
    val_auc: float | None
    val_auc_ci: list[float] | None
    reason: str

    @property
    def assessed(self) -> bool:
        return not self.reason

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "assessed": self.assessed}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ClassAssessment:
        return cls(**{k: data[k] for k in ("code", "task", "train_positives", "val_positives", "val_auc",
                                           "val_auc_ci", "reason")})


def manifest_train_positives(manifest: Mapping[str, Any]) -> np.ndarray | None:
    """Training positives per output as the bundle's manifest states them: ``train_positives`` when training
    wrote it, else ``train_prevalence`` x the training record count (exact when no label was masked in
    training, an upper bound otherwise); None when the manifest has neither."""
    training = manifest.get("training", {})
    if "train_positives" in training:
        return np.asarray(training["train_positives"], dtype=np.int64)
    prevalence, n_train = training.get("train_prevalence"), training.get("n_records", {}).get("train")
    if prevalence is None or n_train is None:
        return None
    return np.rint(np.asarray(prevalence, dtype=np.float64) * int(n_train)).astype(np.int64)


def training_positives(manifest: Mapping[str, Any], y_train: np.ndarray, mask_train: np.ndarray) -> np.ndarray:
    """Training positives ``(C,)``: the smaller of the manifest's figure (:func:`manifest_train_positives`) and
    the known positives in the training records given (more than the network saw when the data grew after it
    was trained). Each bound is exact in its own case, so the smaller is the tightest the two allow."""
    counted = ((np.asarray(y_train) > 0.5) & np.asarray(mask_train, dtype=bool)).sum(axis=0).astype(np.int64)
    stated = manifest_train_positives(manifest)
    return counted if stated is None else np.minimum(counted, stated)


def _auc_ci(y: np.ndarray, p: np.ndarray, n_boot: int, seed: int) -> tuple[float, float]:
    """90 % bootstrap interval of one class's AUC over its records."""
    return bootstrap_ci(lambda rows: binary_auc(y[rows], p[rows]), len(y), n_boot=n_boot, seed=seed)


def _reason(train_positives: int, auc: float, ci: tuple[float, float]) -> str:
    if train_positives < MIN_TRAIN_POSITIVES:
        return f"{train_positives} training positives (at least {MIN_TRAIN_POSITIVES} needed)"
    if not np.isfinite(auc):
        return "no validation positives to measure it on"
    if not ci[0] >= MIN_AUC_LOWER:
        return (f"validation AUC {auc:.2f}, 90% interval [{ci[0]:.2f}, {ci[1]:.2f}] reaches below "
                f"{MIN_AUC_LOWER}")
    return ""


def assess_classes(
    labels: Sequence[Label],
    train_positives: np.ndarray,
    y_val: np.ndarray,
    p_val: np.ndarray,
    mask_val: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[ClassAssessment, ...]:
    """Assess every output from its training positives and its validation labels ``y_val`` and scores ``p_val``
    (``(n, C)``, known where ``mask_val``), with ``n_boot`` bootstrap resamples of the records."""
    out = []
    for j, label in enumerate(labels):
        known = np.asarray(mask_val[:, j], dtype=bool)
        y, p = np.asarray(y_val)[known, j], np.asarray(p_val)[known, j]
        auc = binary_auc(y, p)
        finite = bool(np.isfinite(auc))
        ci = _auc_ci(y, p, n_boot, seed) if finite else (float("nan"), float("nan"))
        out.append(ClassAssessment(
            code=label.code, task=label.task, train_positives=int(train_positives[j]),
            val_positives=int((y > 0.5).sum()), val_auc=float(auc) if finite else None,
            val_auc_ci=[float(ci[0]), float(ci[1])] if finite else None,
            reason=_reason(int(train_positives[j]), auc, ci),
        ))
    return tuple(out)
