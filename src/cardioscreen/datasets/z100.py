"""The preprocessed ``ptbxl-z100`` folder: ``signals.npy`` (float16 ``(N, 12, 1000)``, 100 Hz) + ``index.csv``.

The signals are already in the ``z100`` recipe (:func:`cardioscreen.datasets.preprocess.z100`). Labels: the five
superclasses (``NORM MI STTC CD HYP``, the PTB-XL benchmark's aggregation) and the seed classes from the official
``scp_codes`` (every class known for every record).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from cardioscreen.datasets.labels import SEED17, SUPERCLASSES, LabelSet, check_task, label_task
from cardioscreen.errors import CardioScreenError

SIGNALS_NPY = "signals.npy"
INDEX_CSV = "index.csv"
FS = 100.0
RECIPE = "z100"

SPLIT_FOLDS: dict[str, tuple[int, ...]] = {"train": (1, 2, 3, 4, 5, 6, 7, 8), "val": (9,), "test": (10,)}
"""The PTB-XL ``strat_fold`` values each ``split`` stands for."""


@dataclass(frozen=True)
class Z100:
    """The ptbxl-z100 folder.

    Attributes
    ----------
    root : Path
        The folder.
    index : pandas.DataFrame
        ``index.csv`` (one row per record, in the order of the signal rows).
    rows : np.ndarray
        Row of ``signals.npy`` for each row of ``index`` (int64).
    """

    root: Path
    index: pd.DataFrame
    rows: np.ndarray

    @classmethod
    def load(cls, root: str | Path) -> Z100:
        """Read the index of the ptbxl-z100 folder ``root``."""
        root = Path(root)
        for name in (SIGNALS_NPY, INDEX_CSV):
            if not (root / name).is_file():
                raise CardioScreenError(f"{root} is not a ptbxl-z100 folder: {name} is missing")
        index = pd.read_csv(root / INDEX_CSV, dtype={"snomed_scored": str})
        return cls(root=root, index=index, rows=np.arange(len(index), dtype=np.int64))

    @staticmethod
    def is_z100(root: str | Path) -> bool:
        """Whether ``root`` looks like a ptbxl-z100 folder."""
        return (Path(root) / SIGNALS_NPY).is_file() and (Path(root) / INDEX_CSV).is_file()

    def __len__(self) -> int:
        return len(self.index)

    @property
    def ecg_ids(self) -> np.ndarray:
        return self.index["ecg_id"].to_numpy(dtype=np.int64)

    @property
    def patient_ids(self) -> np.ndarray:
        """``patient_id`` per record, int64 (-1 where the index does not give it)."""
        if "patient_id" not in self.index:
            return np.full(len(self), -1, dtype=np.int64)
        return self.index["patient_id"].fillna(-1).to_numpy().astype(np.int64)

    @property
    def split(self) -> np.ndarray:
        """``split`` per record (``train`` = strat_fold 1-8, ``val`` = fold 9)."""
        return self.index["split"].to_numpy(dtype=str)

    def subset(self, mask: np.ndarray | Sequence[bool]) -> Z100:
        keep = np.asarray(mask, dtype=bool)
        return replace(self, index=self.index[keep], rows=self.rows[keep])

    def in_folds(self, folds: Sequence[int]) -> Z100:
        """Records whose split covers any of the PTB-XL ``folds`` (1-8 train, 9 val, 10 test)."""
        wanted = {name for name, split_folds in SPLIT_FOLDS.items() if set(split_folds) & set(folds)}
        return self.subset(np.isin(self.split, sorted(wanted)))

    def signals(self) -> np.ndarray:
        """Shape ``(n_records, 12, 1000)``, float32, z100 recipe at 100 Hz."""
        array = np.load(self.root / SIGNALS_NPY, mmap_mode="r")
        return np.asarray(array[self.rows], dtype=np.float32)

    def labels(self, task: str, classes: Sequence[str] | None = None) -> LabelSet:
        """Labels of ``superdiagnostic`` (the index's columns) or ``seed17`` (from ``scp_codes``); all known."""
        if check_task(task) not in ("superdiagnostic", "seed17"):
            raise CardioScreenError(f"ptbxl-z100 has labels for superdiagnostic and seed17 only, not {task!r}")
        if task == "seed17":
            if "scp_codes" not in self.index:
                raise CardioScreenError(f"{self.root / INDEX_CSV} has no scp_codes column: seed17 labels are unknown")
            codes = [ast.literal_eval(value) for value in self.index["scp_codes"]]
            return label_task(codes, pd.DataFrame(), task, classes if classes is not None else SEED17)
        classes = tuple(classes) if classes is not None else SUPERCLASSES
        unknown = sorted(set(classes) - set(SUPERCLASSES))
        if unknown:
            raise CardioScreenError(f"superdiagnostic classes {unknown} are not among {SUPERCLASSES}")
        y = self.index[list(classes)].to_numpy(dtype=np.float32)
        return LabelSet(y=y, classes=classes, task=task, mask=np.ones_like(y, dtype=bool))
