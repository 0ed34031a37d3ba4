"""Labelled record sets for evaluation, from a PTB-XL-layout, ptbxl-z100 or PhysioNet/CinC challenge folder.

A set gives labels for a task's classes of a bundle and access to its records: raw records (PTB-XL, challenge)
are read one at a time in mV, as a user's file is; the ptbxl-z100 folder has only normalised network inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cardioscreen.datasets.cinc import CinC
from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.datasets.z100 import RECIPE as Z100_RECIPE
from cardioscreen.datasets.z100 import Z100
from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.models.bundle import Bundle
from cardioscreen.record import ECGRecord
from cardioscreen.training.data import PTBXL_READ_FS
from cardioscreen.training.evaluate import evaluated_rows


@dataclass(frozen=True)
class LabelledSet:
    """Records with labels for some classes of a bundle.

    Attributes
    ----------
    layout : str
        ``"ptbxl"``, ``"z100"`` or ``"cinc"``.
    ids : np.ndarray
        Record identifiers (str).
    sources : np.ndarray
        Per record, where it comes from (the hospital of a challenge record, else the layout).
    y, mask : np.ndarray
        ``(n, C)`` 0/1 labels and "label known".
    read : callable or None
        ``read(i)`` gives raw record ``i`` (mV); None where only network inputs exist (ptbxl-z100).
    inputs : callable or None
        ``inputs()`` gives the normalised network inputs ``(n, 12, samples)`` of all records; None where records
        differ in length (challenge folders).
    """

    layout: str
    ids: np.ndarray
    sources: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    read: Callable[[int], ECGRecord] | None
    inputs: Callable[[], np.ndarray] | None

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: np.ndarray) -> LabelledSet:
        """The records at ``rows`` (sorted indices)."""
        read, inputs = self.read, self.inputs
        return LabelledSet(
            self.layout, self.ids[rows], self.sources[rows], self.y[rows], self.mask[rows],
            None if read is None else (lambda i: read(int(rows[i]))),
            None if inputs is None else (lambda: np.asarray(inputs()[rows])),
        )


def _ptbxl(data_dir: Path, bundle: Bundle, task: str, classes: Sequence[str], folds: Sequence[int],
           cache_dir: Path | None) -> LabelledSet:
    dataset = PTBXL.load(data_dir).in_folds(folds)
    labels = dataset.labels(task, classes)
    ids = dataset.ecg_ids

    def read(i: int) -> ECGRecord:
        return read_ecg(dataset.record_path(int(ids[i]), PTBXL_READ_FS).with_suffix(".hea"))

    def inputs() -> np.ndarray:
        return np.asarray(dataset.signals(PTBXL_READ_FS, recipe=bundle.input_spec.recipe, cache_dir=cache_dir))

    return LabelledSet("ptbxl", ids.astype(str), np.full(len(ids), "ptbxl"), labels.y, labels.mask, read, inputs)


def _z100(data_dir: Path, bundle: Bundle, task: str, classes: Sequence[str], folds: Sequence[int],
          cache_dir: Path | None) -> LabelledSet:
    if bundle.input_spec.recipe != Z100_RECIPE:
        raise CardioScreenError(f"{data_dir} is z100-normalised; bundle {bundle.path} wants "
                                f"{bundle.input_spec.recipe!r}")
    dataset = Z100.load(data_dir).in_folds(folds)
    labels = dataset.labels(task, classes)
    ids = dataset.ecg_ids.astype(str)
    return LabelledSet("z100", ids, np.full(len(ids), "ptbxl-z100"), labels.y, labels.mask, None, dataset.signals)


def _cinc(data_dir: Path, bundle: Bundle, task: str, classes: Sequence[str], folds: Sequence[int],
          cache_dir: Path | None) -> LabelledSet:
    dataset = CinC.load(data_dir)
    labels = dataset.labels(task, classes)
    return LabelledSet("cinc", dataset.record_ids, dataset.sources, labels.y, labels.mask, dataset.read, None)


_LAYOUTS: dict[str, tuple[Callable[[Path], bool], Callable[..., LabelledSet]]] = {
    "z100": (Z100.is_z100, _z100),
    "ptbxl": (lambda root: (root / "ptbxl_database.csv").is_file(), _ptbxl),
    "cinc": (CinC.is_cinc, _cinc),
}
"""Folder layouts: how to recognise one, how to load it."""


def load_labelled(data_dir: Path, bundle: Bundle, task: str, folds: Sequence[int] = (9,),
                  cache_dir: Path | None = None) -> LabelledSet:
    """The labelled records of ``data_dir`` for ``task``'s classes of ``bundle`` that the task evaluates
    (:func:`~cardioscreen.training.evaluate.evaluated_rows`). ``folds`` selects PTB-XL ``strat_fold`` values
    (on ptbxl-z100: 1-8 its train split, 9 its val split); a challenge folder is used whole."""
    cols = bundle.task_columns(task)
    if len(cols) == 0:
        raise CardioScreenError(f"bundle {bundle.path} has no {task!r} outputs; it has {list(bundle.tasks)}")
    classes = [bundle.labels[c].code for c in cols]
    data_dir = Path(data_dir)
    for _, (recognise, load) in _LAYOUTS.items():
        if recognise(data_dir):
            labelled: LabelledSet = load(data_dir, bundle, task, classes, folds, cache_dir)
            break
    else:
        raise CardioScreenError(f"{data_dir} is neither a PTB-XL folder (ptbxl_database.csv), a ptbxl-z100 folder "
                                "(signals.npy + index.csv) nor a challenge folder (.hea + .mat)")
    keep = np.flatnonzero(evaluated_rows(task, labelled.y, labelled.mask))
    if len(keep) == 0:
        raise CardioScreenError(f"no labelled {task} records in {data_dir} (folds {list(folds)})")
    return labelled.take(keep)
