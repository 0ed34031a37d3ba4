"""Clinical measurements as ensemble inputs: intervals, axes and per-lead amplitudes of one record, in one row.

A record's row is :func:`measurement_vector` of :func:`cardioscreen.signal.measure.measure_record` on the
record's own millivolts: the Analyzer passes the measurement it has already made, and training measures PTB-XL
records read the same way (:meth:`cardioscreen.datasets.ptbxl.PTBXL.read_signal` at 500 Hz, the 12 standard
leads, no metadata: exactly what ``read_ecg`` gives the Analyzer for the same file). The matrix of a PTB-XL folder
is measured once and kept in a memory-mapped store beside its signal cache
(:mod:`cardioscreen.datasets.cache`). ptbxl-z100 records are z-scored, so their amplitudes and intervals are
unknown: NaN rows (the boosting takes NaN).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cardioscreen.datasets.cache import build_store, default_cache_dir, open_store, rows_for
from cardioscreen.errors import CardioScreenError
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.record import ECGRecord
from cardioscreen.signal.measure import RecordMeasurements, measure_record
from cardioscreen.signal.morphology import Morphology

if TYPE_CHECKING:  # training-only: the Analyzer's path imports neither pandas nor wfdb
    from cardioscreen.datasets.ptbxl import PTBXL
    from cardioscreen.training.data import TaskData

logger = logging.getLogger(__name__)

INTERVAL_COLUMNS = ("hr_bpm", "rr_sdnn_ms", "rr_rmssd_ms", "p_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms",
                    "qtc_fridericia_ms", "qtc_framingham_ms", "p_axis_deg", "qrs_axis_deg", "t_axis_deg")
""":class:`~cardioscreen.signal.intervals.Intervals` fields in a row (ms, degrees, beats per minute)."""

PREFIX = "meas_"
"""Prefix of every measurement column name (``"meas_pr_ms"``, ``"meas_V1_r_mv"``...)."""

READ_FS = 500
"""Rate (Hz) PTB-XL records are read at to be measured."""

TRAINING_POWERLINE_HZ = 50.0
"""Mains frequency of PTB-XL (recorded in Germany)."""

MEASUREMENT_VERSION = 2
"""Version of what :func:`measure_record` gives, in the stores' names: raise it whenever a change alters a
measurement, so that training measures the records again instead of reading rows of the old kind (2: the cleaning
and the diagnostic band in the frequency domain)."""


def measurement_names() -> list[str]:
    """Names of the row's columns: the intervals, then :meth:`Morphology.feature_vector`'s 171 columns."""
    morphology, _ = Morphology().feature_vector()
    return [PREFIX + name for name in (*INTERVAL_COLUMNS, *morphology)]


def measurement_vector(measured: RecordMeasurements) -> np.ndarray:
    """Row of one measured record: shape ``(len(measurement_names()),)``, float64, NaN where not measured."""
    intervals = [getattr(measured.intervals, name) for name in INTERVAL_COLUMNS]
    _, morphology = measured.morphology.feature_vector()
    return np.concatenate([np.array([np.nan if v is None else float(v) for v in intervals]), morphology])


def measure_ptbxl_record(ptbxl: PTBXL, ecg_id: int, powerline_hz: float = TRAINING_POWERLINE_HZ) -> np.ndarray:
    """Row of PTB-XL record ``ecg_id``: :func:`measure_record` on its 500 Hz millivolts (all NaN where the
    measurement raises a :class:`CardioScreenError`, e.g. a record without beats)."""
    record = ECGRecord(signal=ptbxl.read_signal(ecg_id, READ_FS), fs=float(READ_FS), leads=STANDARD_LEADS)
    try:
        return measurement_vector(measure_record(record, powerline_hz=powerline_hz))
    except CardioScreenError as error:
        logger.warning("record %d not measured: %s", ecg_id, error)
        return np.full(len(measurement_names()), np.nan)


def _store_name(powerline_hz: float) -> str:
    return f"measurements_v{MEASUREMENT_VERSION}_{READ_FS}_{int(powerline_hz)}hz_{len(measurement_names())}.npy"


def ptbxl_measurements(ptbxl: PTBXL, cache_dir: Path | None = None,
                       powerline_hz: float = TRAINING_POWERLINE_HZ) -> np.ndarray:
    """Measurement rows ``(n_records, M)`` of ``ptbxl``'s records (in the order of its ``ecg_ids``), from the
    folder's store, measuring every record of the folder once when the store is absent or lacks some.

    ``cache_dir`` is the folder of the stores (default: the folder's
    :func:`~cardioscreen.datasets.cache.default_cache_dir`, where its signal cache lives).
    """
    path = (cache_dir or default_cache_dir(ptbxl.root)) / _store_name(powerline_hz)
    stored = open_store(path)
    rows = rows_for(stored[1], ptbxl.ecg_ids) if stored is not None else None
    if stored is None or rows is None:
        from cardioscreen.datasets.ptbxl import PTBXL

        whole = PTBXL.load(ptbxl.root)
        stored = build_store(path, list(whole.ecg_ids), (len(measurement_names()),),
                             lambda ecg_id: measure_ptbxl_record(whole, ecg_id, powerline_hz), dtype="float64",
                             desc="PTB-XL measurements")
        rows = rows_for(stored[1], ptbxl.ecg_ids)
        if rows is None:
            raise CardioScreenError(f"records {ptbxl.ecg_ids[:5]}... are not in {ptbxl.root}")
    return np.asarray(stored[0][rows], dtype=np.float64)


def _raw_ptbxl_rows(data: TaskData, folders: Sequence[Path]) -> Iterator[tuple[PTBXL, np.ndarray]]:
    """Per PTB-XL folder among ``folders``: the folder (limited to ``data``'s records) and the rows of ``data``
    that are its records, in the folder's record order (ptbxl-z100 folders have none: no millivolts)."""
    from cardioscreen.datasets.ptbxl import PTBXL
    from cardioscreen.datasets.z100 import Z100

    raw = data.source == "ptbxl"
    for folder in folders:
        if Z100.is_z100(folder):
            continue
        ptbxl = PTBXL.load(folder)
        rows = np.flatnonzero(raw & np.isin(data.ecg_ids, ptbxl.ecg_ids))
        if len(rows):
            wanted = ptbxl.subset(np.isin(ptbxl.ecg_ids, data.ecg_ids[rows]))
            position = rows_for(wanted.ecg_ids, data.ecg_ids[rows])
            assert position is not None
            yield wanted, rows[np.argsort(position)]


def measured_r_peaks(data: TaskData, folders: Sequence[Path], fs: float) -> list[np.ndarray | None]:
    """Per record of ``data``: its R-peaks as :func:`measure_record` finds them on its 500 Hz millivolts (the
    Analyzer's ``r_peaks`` for the same file), as sample indices at ``fs`` Hz, the rate of its network input
    ``data.x``; None for ptbxl-z100 records (z-scored: the features find their R-peaks on the input itself)."""
    from tqdm.auto import tqdm

    from cardioscreen.ensemble.inputs import peaks_at
    from cardioscreen.signal.peaks import ecg_peaks

    out: list[np.ndarray | None] = [None] * len(data)
    n_samples = data.x.shape[-1]
    for ptbxl, rows in _raw_ptbxl_rows(data, folders):
        for ecg_id, row in zip(tqdm(ptbxl.ecg_ids, desc="PTB-XL R-peaks", leave=False), rows, strict=True):
            r_peaks, _ = ecg_peaks(ptbxl.read_signal(int(ecg_id), READ_FS), float(READ_FS))
            out[row] = peaks_at(r_peaks, float(READ_FS), fs, n_samples)
    return out


def measurement_matrix(data: TaskData, folders: Sequence[Path], cache_dir: Path | None = None) -> np.ndarray:
    """Measurement rows ``(len(data), M)`` of ``data``'s records: those of its PTB-XL records from their folder
    among ``folders``; NaN for ptbxl-z100 records (z-scored: no millivolts to measure)."""
    out = np.full((len(data), len(measurement_names())), np.nan)
    for ptbxl, rows in _raw_ptbxl_rows(data, folders):
        out[rows] = ptbxl_measurements(ptbxl, cache_dir)
    logger.info("measurements: %d of %d records measured in mV", int(np.isfinite(out).any(axis=1).sum()),
                len(data))
    return out
