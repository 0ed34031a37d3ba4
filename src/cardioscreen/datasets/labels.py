"""PTB-XL label tasks as multi-hot matrices.

The benchmark tasks (``diagnostic``, ``subdiagnostic``, ``superdiagnostic``, ``all``, ``form``, ``rhythm``) are
aggregated exactly as the PTB-XL benchmark does (Strodthoff et al. 2020, ``scp_experiment/utils.py``,
``compute_label_aggregations`` + ``select_data`` with ``min_samples=0``): every SCP statement of a record counts
whatever its likelihood, and a task's classes are those present in the records given, sorted. ``seed17`` is the
prototype's fixed list of 17 SCP statements, always in the prototype's order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cardioscreen.errors import CardioScreenError

SEED17: tuple[str, ...] = (
    "NORM", "IMI", "NDT", "NST_", "LVH", "LAFB", "IRBBB", "IVCD", "ASMI",
    "AMI", "ISCAL", "1AVB", "ILMI", "ISC_", "CRBBB", "CLBBB", "LAO/LAE",
)  # fmt: skip
"""The 17 SCP statements the prototype screened for, in its order."""

SUPERCLASSES: tuple[str, ...] = ("CD", "HYP", "MI", "NORM", "STTC")
"""The five PTB-XL diagnostic superclasses, in the benchmark's (sorted) order."""

Aggregator = Callable[[pd.DataFrame], Callable[[Mapping[str, float]], set[str]]]
"""Given ``scp_statements.csv``, returns the per-record function ``{code: likelihood} -> class names``."""


@dataclass(frozen=True)
class LabelSet:
    """A multi-hot label matrix.

    Attributes
    ----------
    y : np.ndarray
        Shape ``(n_records, n_classes)``, float32 in {0, 1}.
    classes : tuple of str
        Column names of ``y``.
    task : str
        The task the labels belong to.
    mask : np.ndarray
        Shape of ``y``, bool: True where the label is known (always True for PTB-XL records; the
        preprocessed z100 folder leaves the seed classes it cannot map unknown).
    """

    y: np.ndarray
    classes: tuple[str, ...]
    task: str
    mask: np.ndarray

    def __post_init__(self) -> None:
        if self.y.ndim != 2 or self.y.shape[1] != len(self.classes):
            raise CardioScreenError(f"labels of shape {self.y.shape} do not match {len(self.classes)} classes")
        if self.mask.shape != self.y.shape:
            raise CardioScreenError(f"label mask {self.mask.shape} does not match labels {self.y.shape}")

    @property
    def has_label(self) -> np.ndarray:
        """Bool per record: at least one positive class (the benchmark drops records without)."""
        return np.asarray((self.y * self.mask).sum(axis=1) > 0)


def _flagged(statements: pd.DataFrame, column: str) -> set[str]:
    return set(statements.index[statements[column] == 1.0])


def _by_flag(column: str) -> Aggregator:
    def build(statements: pd.DataFrame) -> Callable[[Mapping[str, float]], set[str]]:
        chosen = _flagged(statements, column)
        return lambda codes: {code for code in codes if code in chosen}

    return build


def _by_diagnostic_column(column: str) -> Aggregator:
    def build(statements: pd.DataFrame) -> Callable[[Mapping[str, float]], set[str]]:
        diag = statements.loc[sorted(_flagged(statements, "diagnostic")), column]
        mapping = {code: value for code, value in diag.items() if isinstance(value, str)}
        return lambda codes: {mapping[code] for code in codes if code in mapping}

    return build


def _all(statements: pd.DataFrame) -> Callable[[Mapping[str, float]], set[str]]:
    return lambda codes: set(codes)


def _seed17(statements: pd.DataFrame) -> Callable[[Mapping[str, float]], set[str]]:
    return lambda codes: {code for code in codes if code in SEED17}


_AGGREGATORS: dict[str, Aggregator] = {
    "seed17": _seed17,
    "diagnostic": _by_flag("diagnostic"),
    "subdiagnostic": _by_diagnostic_column("diagnostic_subclass"),
    "superdiagnostic": _by_diagnostic_column("diagnostic_class"),
    "form": _by_flag("form"),
    "rhythm": _by_flag("rhythm"),
    "all": _all,
}
_FIXED_CLASSES: dict[str, tuple[str, ...]] = {"seed17": SEED17}

TASKS: tuple[str, ...] = tuple(_AGGREGATORS)
"""Names of the label tasks."""


def check_task(task: str) -> str:
    """Return ``task`` if it is known, else raise :class:`CardioScreenError` listing the tasks."""
    if task not in _AGGREGATORS:
        raise CardioScreenError(f"unknown label task {task!r}; choose one of {sorted(_AGGREGATORS)}")
    return task


def aggregate_codes(scp_codes: Iterable[Mapping[str, float]], statements: pd.DataFrame, task: str) -> list[set[str]]:
    """The task's class names for each record.

    Parameters
    ----------
    scp_codes : iterable of mapping
        Per record, ``{scp_code: likelihood}`` as in ``ptbxl_database.csv``.
    statements : pandas.DataFrame
        ``scp_statements.csv`` indexed by SCP code.
    task : str
        One of :data:`TASKS`.
    """
    aggregate = _AGGREGATORS[check_task(task)](statements)
    return [aggregate(codes) for codes in scp_codes]


def multi_hot(per_record: Sequence[set[str]], classes: Sequence[str], task: str) -> LabelSet:
    """Binarise sets of class names into a :class:`LabelSet` with columns ``classes``."""
    column = {name: i for i, name in enumerate(classes)}
    y = np.zeros((len(per_record), len(classes)), dtype=np.float32)
    for row, names in enumerate(per_record):
        for name in names:
            if name in column:
                y[row, column[name]] = 1.0
    return LabelSet(y=y, classes=tuple(classes), task=task, mask=np.ones_like(y, dtype=bool))


def with_verdicts(labels: LabelSet, verdicts: Sequence[Mapping[str, int] | None]) -> LabelSet:
    """``labels`` of records that carry class verdicts (a reviewed study, see :mod:`cardioscreen.reviews`) instead
    of a full statement list: for such a record a class is known only where the doctor gave a verdict on it
    (``{class: 1 present, 0 absent}``, any task's class names) or where its SCP statements make it positive;
    every other class is unknown (masked), not negative. Records with ``None`` keep every class known.
    """
    y, mask = labels.y.copy(), labels.mask.copy()
    for row, given in enumerate(verdicts):
        if given is None:
            continue
        for j, name in enumerate(labels.classes):
            if name in given:
                y[row, j] = max(y[row, j], float(bool(given[name])))
            mask[row, j] = name in given or y[row, j] > 0
    return LabelSet(y=y, classes=labels.classes, task=labels.task, mask=mask)


def label_task(
    scp_codes: Sequence[Mapping[str, float]],
    statements: pd.DataFrame,
    task: str,
    classes: Sequence[str] | None = None,
) -> LabelSet:
    """Labels of ``task`` for the records whose SCP statements are ``scp_codes``.

    ``classes`` fixes the columns (e.g. a trained model's); otherwise ``seed17`` uses :data:`SEED17` and the
    benchmark tasks use the sorted classes present in these records, as the benchmark does.
    """
    per_record = aggregate_codes(scp_codes, statements, task)
    if classes is None:
        classes = _FIXED_CLASSES.get(task) or sorted(set().union(*per_record))
    return multi_hot(per_record, classes, task)
