"""Training data: normalised record arrays with multi-task labels, masks and patient-wise splits.

PTB-XL folders are read at 500 Hz through the signal cache with the model's normalisation recipe applied once;
``ptbxl-z100`` folders are already in the ``z100`` recipe. Labels of several tasks (e.g. ``seed17`` and
``superdiagnostic``) are concatenated into one matrix with a mask that is False where a folder does not know a label.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cardioscreen.datasets.labels import SEED17, SUPERCLASSES, LabelSet
from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.datasets.z100 import RECIPE as Z100_RECIPE
from cardioscreen.datasets.z100 import SPLIT_FOLDS, Z100
from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import Label

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
_FIXED = {"seed17": SEED17, "superdiagnostic": SUPERCLASSES}
PTBXL_READ_FS = 500


@dataclass(frozen=True)
class FoldSpec:
    """PTB-XL ``strat_fold`` values of each split (patient-wise): train 1-8, validation 9, test 10 by default."""

    train: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8)
    val: tuple[int, ...] = (9,)
    test: tuple[int, ...] = (10,)

    def __post_init__(self) -> None:
        parts = [set(self.train), set(self.val), set(self.test)]
        if parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2]:
            raise CardioScreenError(f"folds overlap: train {self.train}, val {self.val}, test {self.test}")
        if not all(1 <= f <= 10 for part in parts for f in part):
            raise CardioScreenError("PTB-XL folds run from 1 to 10")

    def split_of(self, folds: np.ndarray) -> np.ndarray:
        """``"train"``/``"val"``/``"test"``/``""`` per fold value."""
        out = np.full(len(folds), "", dtype=object)
        for name in SPLITS:
            out[np.isin(folds, getattr(self, name))] = name
        return out.astype(str)


@dataclass(frozen=True)
class TaskData:
    """Model inputs and labels of a set of records.

    Attributes
    ----------
    x : np.ndarray
        ``(n, 12, samples)`` float32, normalised.
    y, mask : np.ndarray
        ``(n, n_labels)``: float32 labels and bool "label known".
    labels : tuple of Label
        Column names (code and task).
    ecg_ids, patient_ids : np.ndarray
        int64 per record; ``patient_ids`` is -1 where the folder does not give it.
    split : np.ndarray
        ``"train"``, ``"val"``, ``"test"`` or ``""`` (unused) per record.
    source : np.ndarray
        Folder kind per record: ``"ptbxl"`` or ``"z100"``.
    """

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    labels: tuple[Label, ...]
    ecg_ids: np.ndarray
    patient_ids: np.ndarray
    split: np.ndarray
    source: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.x)
        for name in ("y", "mask", "ecg_ids", "patient_ids", "split", "source"):
            if len(getattr(self, name)) != n:
                raise CardioScreenError(f"TaskData.{name} has {len(getattr(self, name))} rows for {n} records")

    def __len__(self) -> int:
        return len(self.x)

    def take(self, rows: np.ndarray) -> TaskData:
        """The records at ``rows`` (indices or bool mask)."""
        return TaskData(
            x=self.x[rows],
            y=self.y[rows],
            mask=self.mask[rows],
            labels=self.labels,
            ecg_ids=self.ecg_ids[rows],
            patient_ids=self.patient_ids[rows],
            split=self.split[rows],
            source=self.source[rows],
        )

    def in_split(self, name: str) -> TaskData:
        return self.take(self.split == name)

    def task_columns(self, task: str) -> np.ndarray:
        return np.array([i for i, label in enumerate(self.labels) if label.task == task], dtype=np.int64)


def task_classes(ptbxl: PTBXL | None, task: str) -> tuple[str, ...]:
    """Fixed classes of ``seed17``/``superdiagnostic``; else the classes present in ``ptbxl``'s records."""
    if task in _FIXED:
        return _FIXED[task]
    if ptbxl is None:
        raise CardioScreenError(f"task {task!r} needs a PTB-XL folder with SCP statements")
    return ptbxl.labels(task).classes


def _concat_labels(sets: Sequence[LabelSet]) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([s.y for s in sets], axis=1), np.concatenate([s.mask for s in sets], axis=1)


def load_folder(
    path: Path,
    tasks: Sequence[str],
    labels: Sequence[Label],
    folds: FoldSpec,
    *,
    recipe: str = Z100_RECIPE,
    cache_dir: Path | None = None,
) -> TaskData:
    """Records of one folder (PTB-XL layout or ptbxl-z100 layout) in the splits of ``folds``."""
    wanted = folds.train + folds.val + folds.test
    dataset: PTBXL | Z100
    if Z100.is_z100(path):
        if recipe != Z100_RECIPE:
            raise CardioScreenError(f"{path} holds z100-normalised signals; the model wants recipe {recipe!r}")
        dataset = Z100.load(path).in_folds(wanted)
        x = dataset.signals()
        split_names = np.array([_z100_split(s, folds) for s in dataset.split])
        patients = dataset.patient_ids
        source = "z100"
    else:
        dataset = PTBXL.load(path).in_folds(wanted)
        x = np.asarray(dataset.signals(PTBXL_READ_FS, recipe=recipe, cache_dir=cache_dir))
        split_names = folds.split_of(dataset.folds)
        patients = dataset.patient_ids
        source = "ptbxl"
    sets = [dataset.labels(task, [lab.code for lab in labels if lab.task == task]) for task in tasks]
    y, mask = _concat_labels(sets)
    return TaskData(
        x=x,
        y=y,
        mask=mask,
        labels=tuple(labels),
        ecg_ids=dataset.ecg_ids,
        patient_ids=patients,
        split=split_names,
        source=np.full(len(x), source),
    )


def _z100_split(split: str, folds: FoldSpec) -> str:
    for name in SPLITS:
        if set(SPLIT_FOLDS[split]) & set(getattr(folds, name)):
            return name
    return ""


def concat(parts: Sequence[TaskData]) -> TaskData:
    """Records of several folders in one :class:`TaskData` (same labels)."""
    if len({p.labels for p in parts}) != 1:
        raise CardioScreenError("folders to combine must have the same labels")
    return TaskData(
        x=np.concatenate([p.x for p in parts]),
        y=np.concatenate([p.y for p in parts]),
        mask=np.concatenate([p.mask for p in parts]),
        labels=parts[0].labels,
        ecg_ids=np.concatenate([p.ecg_ids for p in parts]),
        patient_ids=np.concatenate([p.patient_ids for p in parts]),
        split=np.concatenate([p.split for p in parts]),
        source=np.concatenate([p.source for p in parts]),
    )


def check_patient_wise(data: TaskData) -> None:
    """Raise if a record id or a known patient appears in more than one split."""
    for what, ids in (("record", data.ecg_ids), ("patient", data.patient_ids)):
        known = ids >= 0
        seen: dict[int, str] = {}
        for value, split in zip(ids[known], data.split[known], strict=True):
            if split and seen.setdefault(int(value), split) != split:
                raise CardioScreenError(f"{what} {value} is in both {seen[int(value)]} and {split}")


def load_training_data(
    data_dir: Path,
    tasks: Sequence[str],
    *,
    extra_dirs: Sequence[Path] = (),
    folds: FoldSpec | None = None,
    recipe: str = Z100_RECIPE,
    cache_dir: Path | None = None,
    max_records: int | None = None,
    seed: int = 0,
) -> TaskData:
    """All records of ``data_dir`` and ``extra_dirs`` for ``tasks``, split by ``folds``, patient-wise checked.

    ``max_records`` keeps a random subset of that many records per split and folder (for quick runs).
    """
    folds = folds or FoldSpec()
    ptbxl = None if Z100.is_z100(data_dir) else PTBXL.load(data_dir).in_folds(folds.train)
    labels = [Label(code, task) for task in tasks for code in task_classes(ptbxl, task)]
    parts = []
    for path in (Path(data_dir), *map(Path, extra_dirs)):
        part = load_folder(path, tasks, labels, folds, recipe=recipe, cache_dir=cache_dir)
        if max_records:
            rng = np.random.default_rng(seed)
            keep = np.concatenate([rng.permutation(np.flatnonzero(part.split == s))[:max_records] for s in SPLITS])
            part = part.take(np.sort(keep))
        parts.append(part)
        logger.info("%s: %s", path, {s: int((part.split == s).sum()) for s in SPLITS})
    data = concat(parts)
    check_patient_wise(data)
    return data
