"""CSV/TSV text files: a header row of lead names, then one row per sample, one column per lead, in mV.

The sampling rate comes from the ``fs`` option or, failing that, from a time column (``time``, ``t``,
``time_s``, ``time (s)``, ``seconds``; ``time_ms``/``ms`` in milliseconds) whose steps must be even. An index
column (empty header, ``index``, ``sample``) is ignored. The delimiter (comma, semicolon or tab) is the one the
header row uses most.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.common import library_errors
from cardioscreen.leads import STANDARD_LEADS, normalize_lead_name
from cardioscreen.record import MAX_LEADS, MAX_SAMPLES_PER_LEAD, ECGRecord

logger = logging.getLogger(__name__)

SUFFIXES = (".csv", ".tsv")
"""Extensions that mark a file as CSV by themselves; any other text file needs a header row naming a lead."""
_DELIMITERS = (",", ";", "\t")
_SECONDS_PER_TIME_UNIT: dict[str, float] = {
    "time": 1.0, "t": 1.0, "times": 1.0, "timesec": 1.0, "seconds": 1.0, "sec": 1.0, "s": 1.0,
    "timems": 1e-3, "ms": 1e-3, "milliseconds": 1e-3,
}
_INDEX_COLUMNS = {"", "index", "idx", "sample", "samples", "samplenumber"}
_WRITE_TIME_COLUMN = "time_s"
_MAX_OTHER_COLUMNS = 2
"""Columns beside the leads: a time column and an index column."""
_MAX_HEADER_CHARS = 1 << 20


def _column_key(name: str) -> str:
    return re.sub(r"[\s_()\[\].-]", "", name.lower())


def _delimiter(first_line: str) -> str:
    return max(_DELIMITERS, key=first_line.count)


def sniff(path: Path, head: bytes) -> bool:
    """True for a text file with a CSV extension, or whose first row names at least one standard lead.

    A ``.txt`` file (a README, a licence) is CSV only when its header row names a lead.
    """
    if b"\x00" in head:
        return False
    if path.suffix.lower() in SUFFIXES:
        return True
    first_line = head.decode("utf-8", errors="ignore").lstrip("\ufeff").splitlines()[:1]
    if not first_line:
        return False
    fields = first_line[0].split(_delimiter(first_line[0]))
    return any(normalize_lead_name(field.strip().strip('"')) in STANDARD_LEADS for field in fields)


def has_lead_table(path: Path) -> bool:
    """Whether the file starts as a CSV recording does: a header row naming at least one standard lead, then a
    row of numbers only (not a table of patients such as LUDB's ``ludb.csv``, nor LUDB's ``ANNOTATORS``, whose
    rows start with lead names followed by words)."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            header, first = handle.readline(_MAX_HEADER_CHARS), handle.readline(_MAX_HEADER_CHARS)
    except OSError:
        return False
    delimiter = _delimiter(header)
    names = [field.strip().strip('"') for field in header.split(delimiter)]
    values = [field.strip().strip('"') for field in first.split(delimiter)]
    return (any(normalize_lead_name(name) in STANDARD_LEADS for name in names) and bool(first.strip())
            and all(_is_number(value) for value in values if value))


def read(path: Path, *, fs: float | None = None, **options: Any) -> ECGRecord:
    """Read a CSV file of leads in columns.

    Parameters
    ----------
    path : Path
        The file.
    fs : float, optional
        Sampling rate in Hz; required unless the file has a time column.
    **options
        Not used; passing any raises :class:`ECGFormatError`.

    Returns
    -------
    ECGRecord
        Signal ``(leads, samples)`` in mV, leads named by the header row.
    """
    if options:
        raise ECGFormatError(f"CSV files take only the fs option; got {sorted(options)}")
    with library_errors(path, "CSV file"):
        with open(path, encoding="utf-8-sig") as handle:
            first_line = handle.readline(_MAX_HEADER_CHARS)
        if not first_line.strip():
            raise ECGFormatError(f"{path.name}: first row is empty; expected a header row of lead names")
        delimiter = _delimiter(first_line)
        if first_line.count(delimiter) >= MAX_LEADS + _MAX_OTHER_COLUMNS:  # before pandas builds the columns
            raise ECGFormatError(f"{path.name}: {first_line.count(delimiter) + 1} columns; at most {MAX_LEADS} "
                                 "leads (and a time and an index column) are accepted")
        import pandas as pd

        table = pd.read_csv(path, sep=delimiter, encoding="utf-8-sig", skipinitialspace=True,
                            nrows=MAX_SAMPLES_PER_LEAD + 1)
    columns = [str(name).strip() for name in table.columns]
    if any(_column_key(name).startswith("unnamed") for name in columns[1:]) or _is_number(columns[0]):
        raise ECGFormatError(f"{path.name}: the first row must name the leads (got {columns[:12]})")
    time_index = next((i for i, name in enumerate(columns) if _column_key(name) in _SECONDS_PER_TIME_UNIT), None)
    lead_index = [i for i, name in enumerate(columns) if i != time_index and not _is_index_column(name)]
    if not lead_index:
        raise ECGFormatError(f"{path.name}: no lead columns (columns: {columns})")
    for i in lead_index:
        if not pd.api.types.is_numeric_dtype(table.iloc[:, i]):
            raise ECGFormatError(f"{path.name}: column {columns[i]!r} is not numeric")
    if fs is None:
        if time_index is None:
            raise ECGFormatError(f"{path.name}: no time column; give the sampling rate (fs option, --fs on the CLI)")
        seconds = pd.to_numeric(table.iloc[:, time_index], errors="coerce").to_numpy(dtype=np.float64)
        fs = infer_fs(seconds * _SECONDS_PER_TIME_UNIT[_column_key(columns[time_index])], path.name)
    signal = table.iloc[:, lead_index].to_numpy(dtype=np.float64).T
    return ECGRecord(signal.astype(np.float32), float(fs), tuple(columns[i] for i in lead_index),
                     {"record_id": path.stem})


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _is_index_column(name: str) -> bool:
    key = _column_key(name)
    return key in _INDEX_COLUMNS or key.startswith("unnamed")


def infer_fs(seconds: np.ndarray, where: str) -> float:
    """Sampling rate in Hz from sample times in seconds.

    The times must rise evenly: every sample within half a period of the straight line through the first
    and last. A rate within 0.1 % of a whole number (rounding of the written times) is snapped to it.
    """
    if seconds.size < 2 or not np.isfinite(seconds).all():
        raise ECGFormatError(f"{where}: time column is missing values or has fewer than two rows")
    span = float(seconds[-1] - seconds[0])
    if span <= 0:
        raise ECGFormatError(f"{where}: time column does not increase")
    fs = (seconds.size - 1) / span
    linear = seconds[0] + np.arange(seconds.size) / fs
    if np.abs(seconds - linear).max() > 0.5 / fs:
        raise ECGFormatError(f"{where}: time column is not evenly spaced; give the sampling rate (fs option)")
    return float(round(fs)) if abs(fs - round(fs)) <= 1e-3 * fs else fs


def write(record: ECGRecord, path: Path) -> Path:
    """Write ``record`` as CSV: a ``time_s`` column then one column per lead, mV to 6 decimals (1 nV)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    times = np.arange(record.n_samples) / record.fs
    table = np.column_stack([times, record.signal.T.astype(np.float64)])
    header = ",".join([_WRITE_TIME_COLUMN, *record.leads])
    np.savetxt(path, table, fmt="%.6f", delimiter=",", header=header, comments="")
    return path
