"""MATLAB ``.mat`` files (levels 5 to 7.2) holding an ECG array in mV, such as the CPSC 2019 records
(``ecg``, 5000 x 1 at 500 Hz) or a struct with a ``data`` field (the CPSC 2018 layout).

A ``.mat`` file with a WFDB header beside it (the PhysioNet/CinC challenge layout) is read by
:mod:`cardioscreen.io.wfdb_format`, which knows its gain; a bare ``.mat`` file has no units, so the signal
must be stored in mV (floating point): integer ADC counts are refused rather than guessed. The file's element
structure is checked before scipy reads it (:mod:`cardioscreen.io.matlab_check`: damaged files crashed scipy's
reader), and variable shapes and types before the data are loaded. The signal is the variable (or struct field)
named one of :data:`SIGNAL_NAMES`, else the only numeric array with more than one element; a scalar ``fs`` (or
``Fs``, ``FS``, ``sampling_rate``) gives the rate, and ``age``/``sex`` fields of a struct go to the metadata.
Orientation, default rate and lead names follow :mod:`cardioscreen.io.arrays`.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.arrays import default_lead_names, leads_by_samples, rate_or_default, stored_number
from cardioscreen.io.common import library_errors, parse_age, parse_sex
from cardioscreen.io.matlab_check import check_structure
from cardioscreen.record import MAX_SAMPLES_PER_RECORD, ECGRecord

__all__ = ["SIGNAL_NAMES", "read", "sniff", "write"]

SIGNAL_NAMES = ("ecg", "signal", "data", "val", "sig")
"""Variable or struct field names taken as the signal, first match wins (case-insensitive)."""
_RATE_NAMES = ("fs", "sampling_rate", "samplingrate", "srate")
_SIGNATURE = b"MATLAB "
_HDF5_LEVEL = b"MATLAB 7.3"


def sniff(path: Path, head: bytes) -> bool:
    """True for a MATLAB level 5+ file (its 116-byte text header starts with ``MATLAB``)."""
    return head.startswith(_SIGNATURE) and b"MAT-file" in head[:116]


def read(path: Path, *, fs: float | None = None, leads: tuple[str, ...] | list[str] | None = None,
         **options: Any) -> ECGRecord:
    """Read an ECG from a MATLAB file.

    Parameters
    ----------
    path : Path
        The ``.mat`` file.
    fs : float, optional
        Sampling rate in Hz. Overrides a stored ``fs``; without either, 500 Hz is assumed and a warning logged.
    leads : sequence of str, optional
        Lead names, one per row; default the 12 standard leads for 12 rows, else ``lead1``, ``lead2``...
    **options
        Not used; passing any raises :class:`ECGFormatError`.

    Returns
    -------
    ECGRecord
        Signal ``(leads, samples)`` in mV; ``meta`` has ``record_id`` and, where a struct has them, ``age`` and ``sex``.
    """
    if options:
        raise ECGFormatError(f"MATLAB files take only the fs and leads options; got {sorted(options)}")
    with open(path, "rb") as handle:
        if handle.read(len(_HDF5_LEVEL)) == _HDF5_LEVEL:
            raise ECGFormatError(f"{path.name}: MATLAB 7.3 (HDF5) files are not supported; save it with -v7")
    from scipy.io import loadmat, whosmat
    from scipy.io.matlab import MatReadError

    with library_errors(path, "MATLAB file", extra=(MatReadError, zlib.error, struct.error, NotImplementedError)):
        check_structure(path)
        declared = whosmat(path)
        for name, shape, _ in declared:
            if int(np.prod(shape, dtype=np.int64)) > MAX_SAMPLES_PER_RECORD:
                raise ECGFormatError(f"{path.name}: variable {name!r} of shape {shape} is larger than any record")
        variables = {k: v for k, v in loadmat(path, squeeze_me=False).items() if not k.startswith("__")}
    signal, fields = _signal_and_fields(variables, path.name)
    if signal.dtype.kind in "iu":
        raise ECGFormatError(f"{path.name}: the signal holds integer ADC counts without a gain; store it in mV "
                             "as floating point, or read it through its WFDB header (.hea)")
    signal = leads_by_samples(signal, path.name)
    rate = next((fields[k] for k in fields if k.lower() in _RATE_NAMES), None)
    if fs is None and rate is not None:
        fs = stored_number(np.asarray(rate), "fs", path.name)
    meta: dict[str, Any] = {"record_id": path.stem}
    lower = {k.lower(): v for k, v in fields.items()}
    if leads is None:
        leads = _lead_names(lower.get("leads"))
    if (age := parse_age(_text_or_number(lower.get("age")))) is not None:
        meta["age"] = age
    if (sex := parse_sex(_text_or_number(lower.get("sex")))) is not None:
        meta["sex"] = sex
    return ECGRecord(signal, rate_or_default(fs, path.name), default_lead_names(signal.shape[0], leads), meta)


def _named_signal(variables: dict[str, Any]) -> np.ndarray | None:
    """The plain array named one of :data:`SIGNAL_NAMES` in ``variables`` (first name wins), if any."""
    lower = {key.lower(): value for key, value in variables.items()}
    for name in SIGNAL_NAMES:
        value = lower.get(name)
        if isinstance(value, np.ndarray) and value.dtype.names is None:
            return value
    return None


def _signal_and_fields(variables: dict[str, Any], where: str) -> tuple[np.ndarray, dict[str, Any]]:
    """The signal array and the variables (or the fields of the struct that holds it) beside it."""
    if (signal := _named_signal(variables)) is not None:
        return signal, variables
    for value in variables.values():
        if isinstance(value, np.ndarray) and value.dtype.names and value.size == 1:
            fields = {field: value[field].ravel()[0] for field in value.dtype.names}
            if (signal := _named_signal(fields)) is not None:
                return signal, fields
    numeric = [v for v in variables.values() if isinstance(v, np.ndarray) and v.dtype.kind in "iuf" and v.size > 1]
    if len(numeric) != 1:
        raise ECGFormatError(f"{where}: no ECG signal found (looked for a variable named "
                             f"{', '.join(SIGNAL_NAMES)} or a single numeric array; found {sorted(variables)})")
    return numeric[0], variables


def _lead_names(value: Any) -> list[str] | None:
    """Lead names stored as a MATLAB cell array or char matrix, or None."""
    if value is None:
        return None
    array = np.asarray(value)
    if array.dtype.kind in "US":
        return [str(name).strip() for name in array.ravel()]
    return [str(np.asarray(cell).ravel()[0]).strip() for cell in array.ravel() if np.asarray(cell).size]


def _text_or_number(value: Any) -> object:
    """A MATLAB scalar or char array as a Python number or string (None when absent or empty)."""
    if value is None:
        return None
    array = np.asarray(value).ravel()
    if array.size == 0:
        return None
    return str(array[0]) if array.dtype.kind in "US" else array[0].item()


def write(record: ECGRecord, path: Path) -> Path:
    """Write ``record`` to ``path`` (``.mat`` added if missing) as MATLAB level 5: ``ecg`` (leads x samples, mV,
    float32), ``fs`` and ``leads``."""
    from scipy.io import savemat

    path = Path(path)
    if path.suffix.lower() != ".mat":
        path = path.with_name(path.name + ".mat")
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(path, {"ecg": record.signal, "fs": float(record.fs), "leads": np.array(record.leads, dtype=object)},
            do_compression=True)
    return path
