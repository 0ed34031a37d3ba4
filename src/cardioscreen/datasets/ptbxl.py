"""PTB-XL in its official layout: metadata, label tasks, patient-wise folds, records and a signal cache.

Reads ``ptbxl_database.csv`` + ``scp_statements.csv`` + ``records100/`` / ``records500/`` from a folder — the
shared subset and the full 21,837-record download alike.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import wfdb

from cardioscreen.datasets.cache import build_store, default_cache_dir, open_store, rows_for
from cardioscreen.datasets.labels import LabelSet, label_task, with_verdicts
from cardioscreen.datasets.preprocess import normalise, recipe_fs, resample
from cardioscreen.errors import CardioScreenError
from cardioscreen.leads import STANDARD_LEADS, normalize_lead_name

logger = logging.getLogger(__name__)

DATABASE_CSV = "ptbxl_database.csv"
STATEMENTS_CSV = "scp_statements.csv"
RECORD_SECONDS = 10
_FILENAME_COLUMN = {100: "filename_lr", 500: "filename_hr"}
VERDICTS_COLUMN = "review_verdicts"
"""Optional column (not in the official table) of exported reviews: ``{class: 1 or 0}`` per record, the doctor's
verdicts; classes without one are unknown for that record (:func:`~cardioscreen.datasets.labels.with_verdicts`)."""


def _check_fs(fs: int) -> int:
    if fs not in _FILENAME_COLUMN:
        raise CardioScreenError(f"PTB-XL records come at {sorted(_FILENAME_COLUMN)} Hz, not {fs}")
    return fs


@dataclass(frozen=True)
class PTBXL:
    """PTB-XL metadata for a set of records, with access to their signals.

    Attributes
    ----------
    root : Path
        The dataset folder.
    meta : pandas.DataFrame
        ``ptbxl_database.csv`` indexed by ``ecg_id`` (sorted), ``scp_codes`` parsed to dicts.
    statements : pandas.DataFrame
        ``scp_statements.csv`` indexed by SCP code.
    """

    root: Path
    meta: pd.DataFrame
    statements: pd.DataFrame

    @classmethod
    def load(cls, root: str | Path) -> PTBXL:
        """Read the metadata of the PTB-XL folder ``root``."""
        root = Path(root)
        for name in (DATABASE_CSV, STATEMENTS_CSV):
            if not (root / name).is_file():
                raise CardioScreenError(f"{root} is not a PTB-XL folder: {name} is missing")
        meta = pd.read_csv(root / DATABASE_CSV, index_col="ecg_id").sort_index()
        meta["scp_codes"] = meta["scp_codes"].apply(ast.literal_eval)
        if VERDICTS_COLUMN in meta:
            meta[VERDICTS_COLUMN] = meta[VERDICTS_COLUMN].apply(
                lambda text: ast.literal_eval(text) if isinstance(text, str) and text else None)
        statements = pd.read_csv(root / STATEMENTS_CSV, index_col=0)
        return cls(root=root, meta=meta, statements=statements)

    def __len__(self) -> int:
        return len(self.meta)

    @property
    def ecg_ids(self) -> np.ndarray:
        """Record ids, int64, sorted."""
        return self.meta.index.to_numpy(dtype=np.int64)

    @property
    def folds(self) -> np.ndarray:
        """``strat_fold`` per record (1-10; patient-wise)."""
        return self.meta["strat_fold"].to_numpy(dtype=np.int64)

    @property
    def patient_ids(self) -> np.ndarray:
        """``patient_id`` per record, int64."""
        return self.meta["patient_id"].to_numpy().astype(np.int64)

    def subset(self, mask: np.ndarray | Sequence[bool]) -> PTBXL:
        """The records where ``mask`` is True."""
        return replace(self, meta=self.meta[np.asarray(mask, dtype=bool)])

    def in_folds(self, folds: Sequence[int]) -> PTBXL:
        """The records whose ``strat_fold`` is in ``folds``."""
        return self.subset(np.isin(self.folds, list(folds)))

    def labels(self, task: str, classes: Sequence[str] | None = None) -> LabelSet:
        """Multi-hot labels of ``task`` (see :mod:`cardioscreen.datasets.labels`); rows with review verdicts
        (:data:`VERDICTS_COLUMN`) know only the classes reviewed."""
        labels = label_task(list(self.meta["scp_codes"]), self.statements, task, classes)
        if VERDICTS_COLUMN not in self.meta:
            return labels
        return with_verdicts(labels, list(self.meta[VERDICTS_COLUMN]))

    def record_path(self, ecg_id: int, fs: int) -> Path:
        """Path (without extension) of record ``ecg_id`` at ``fs`` Hz (100 or 500)."""
        return self.root / str(self.meta.loc[ecg_id, _FILENAME_COLUMN[_check_fs(fs)]])

    def read_signal(self, ecg_id: int, fs: int) -> np.ndarray:
        """Signal of record ``ecg_id`` at ``fs`` Hz: shape ``(12, 10 * fs)``, float32, mV, standard lead order.

        Where the 100 Hz file is absent (the shared subset keeps only ``records500/`` of most records), the
        100 Hz signal is derived from the 500 Hz one by polyphase resampling.
        """
        path = self.record_path(ecg_id, fs)
        if not path.with_suffix(".hea").is_file():
            high = self.record_path(ecg_id, 500)
            if fs != 500 and high.with_suffix(".hea").is_file():
                derived = resample(self._read_wfdb(high).astype(np.float64), 500, fs)
                return np.ascontiguousarray(derived, dtype=np.float32)
            raise CardioScreenError(f"record {ecg_id}: {path}.hea is missing")
        return self._read_wfdb(path)

    @staticmethod
    def _read_wfdb(path: Path) -> np.ndarray:
        samples, fields = wfdb.rdsamp(str(path))
        names = [normalize_lead_name(n) for n in fields["sig_name"]]
        order = [names.index(lead) for lead in STANDARD_LEADS]
        return np.ascontiguousarray(samples.T[order], dtype=np.float32)

    def signals(self, fs: int, *, recipe: str | None = None, cache_dir: Path | None = None) -> np.ndarray:
        """Signals of these records from the memory-mapped cache, building it once if needed.

        Parameters
        ----------
        fs : int
            Record rate to read, 100 or 500 Hz.
        recipe : str, optional
            A normalisation recipe of :mod:`cardioscreen.datasets.preprocess` (e.g. ``"z100"``) applied
            before caching; the store then holds the recipe's output.
        cache_dir : Path, optional
            Folder of the stores; default :func:`~cardioscreen.datasets.cache.default_cache_dir`.

        Returns
        -------
        np.ndarray
            Shape ``(n_records, 12, samples)``, float32, in the order of :attr:`ecg_ids`: the memory map
            itself when these are all the store's records, else a copy of the rows.
        """
        store_path = (cache_dir or default_cache_dir(self.root)) / _store_name(fs, recipe)
        stored = open_store(store_path)
        rows = rows_for(stored[1], self.ecg_ids) if stored is not None else None
        if stored is None or rows is None:
            stored = PTBXL.load(self.root)._build(store_path, fs, recipe)
            rows = rows_for(stored[1], self.ecg_ids)
            if rows is None:
                raise CardioScreenError(f"records {self.ecg_ids[:5]}... are not in {self.root}")
        array, ids = stored
        if len(ids) == len(rows) and np.array_equal(rows, np.arange(len(rows))):
            return array
        return np.asarray(array[rows])

    def _build(self, path: Path, fs: int, recipe: str | None) -> tuple[np.ndarray, np.ndarray]:
        out_fs = recipe_fs(recipe) if recipe else fs
        shape = (len(STANDARD_LEADS), int(RECORD_SECONDS * out_fs))

        def read_row(ecg_id: int) -> np.ndarray:
            x = self.read_signal(ecg_id, fs)
            return normalise(x, fs, recipe) if recipe else x

        return build_store(path, list(self.ecg_ids), shape, read_row, desc=f"PTB-XL {path.stem}")


def _store_name(fs: int, recipe: str | None) -> str:
    return f"signals_{_check_fs(fs)}{'_' + recipe if recipe else ''}.npy"
