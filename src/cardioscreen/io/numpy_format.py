"""NumPy ``.npy`` and ``.npz`` arrays of leads x samples in mV (the prototype's upload format).

Pickled objects are never loaded (``allow_pickle=False``), and an array's declared shape and dtype are
checked before any memory is allocated for it. Orientation, default rate and lead names follow
:mod:`cardioscreen.io.arrays`. An ``.npz`` holds ``signal`` plus optional ``fs`` (Hz) and ``leads`` (lead
names); a lone array in an ``.npz`` is taken as the signal.
"""

from __future__ import annotations

import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.arrays import default_lead_names, leads_by_samples, rate_or_default, stored_number
from cardioscreen.io.common import MAX_DECODED_BYTES, library_errors
from cardioscreen.record import MAX_SAMPLES_PER_RECORD, ECGRecord

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_SIGNAL_KEYS = ("signal", "ecg", "arr_0")
_EXTRA_KEYS = ("fs", "leads")
_MAX_CODE_POINT = 0x10FFFF


def sniff(path: Path, head: bytes) -> bool:
    """True for a ``.npy`` file, or a zip archive whose first member is a ``.npy`` array (``.npz``)."""
    if head.startswith(_NPY_MAGIC):
        return True
    if not head.startswith(_ZIP_MAGIC) or len(head) < 30:
        return False
    name_length = int.from_bytes(head[26:28], "little")
    return head[30 : 30 + name_length].endswith(b".npy")


def read(
    path: Path, *, fs: float | None = None, leads: tuple[str, ...] | list[str] | None = None, **options: Any
) -> ECGRecord:
    """Read a ``.npy`` or ``.npz`` ECG array.

    Parameters
    ----------
    path : Path
        The file.
    fs : float, optional
        Sampling rate in Hz. Overrides an ``fs`` stored in an ``.npz``; without either, 500 Hz is assumed
        and a warning logged.
    leads : sequence of str, optional
        Lead names, one per row. Default: the ``.npz``'s ``leads``, else the 12 standard leads for a
        12-row array, else ``lead1``, ``lead2``...
    **options
        Not used; passing any raises :class:`ECGFormatError`.

    Returns
    -------
    ECGRecord
        Signal ``(leads, samples)`` in mV.
    """
    if options:
        raise ECGFormatError(f"NumPy files take only the fs and leads options; got {sorted(options)}")
    stored: dict[str, np.ndarray] = {}
    with library_errors(path, "NumPy array", extra=(zipfile.BadZipFile, zlib.error, tokenize.TokenError)):
        with open(path, "rb") as handle:
            is_npy = handle.read(len(_NPY_MAGIC)) == _NPY_MAGIC
            handle.seek(0)
            if is_npy:
                stored["signal"] = _load_checked(handle, path.name)
        if not is_npy:
            stored = _load_npz(path)
    signal = leads_by_samples(stored["signal"], path.name)
    if fs is None and "fs" in stored:
        fs = stored_number(stored["fs"], "fs", path.name)
    if leads is None and "leads" in stored:
        leads = tuple(str(name) for name in stored["leads"].ravel())
    return ECGRecord(signal, rate_or_default(fs, path.name), default_lead_names(signal.shape[0], leads),
                     {"record_id": path.stem})


def _load_checked(handle: IO[bytes], where: str) -> np.ndarray:
    """One ``.npy`` array from an open stream, after checking its header's dtype, element count and byte size."""
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
    else:
        shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
    if dtype.hasobject or dtype.kind not in "iufU":
        raise ECGFormatError(f"{where}: array dtype {dtype} is not numeric (pickled objects are refused)")
    count = int(np.prod(shape, dtype=np.int64))
    if count == 0:
        raise ECGFormatError(f"{where}: array is empty (shape {shape})")
    n_bytes = count * dtype.itemsize
    if count > MAX_SAMPLES_PER_RECORD or n_bytes > MAX_DECODED_BYTES:
        raise ECGFormatError(f"{where}: array of shape {shape} ({dtype}) is larger than any accepted record "
                             f"({MAX_SAMPLES_PER_RECORD} samples, {MAX_DECODED_BYTES} bytes)")
    data = bytearray(handle.read(n_bytes))
    if len(data) < n_bytes:
        raise ECGFormatError(f"{where}: truncated: {len(data)} of {n_bytes} data bytes present")
    array = np.frombuffer(data, dtype=dtype, count=count).reshape(shape, order="F" if fortran_order else "C")
    if dtype.kind == "U" and np.frombuffer(data, np.dtype("u4").newbyteorder(dtype.byteorder)).max() > _MAX_CODE_POINT:
        raise ECGFormatError(f"{where}: text array holds characters beyond Unicode")
    return array


def _members(archive: zipfile.ZipFile, where: str) -> list[zipfile.ZipInfo]:
    """The ``.npy`` members to load: the signal (under a known name) with ``fs`` and ``leads``, else all of them.

    Their declared sizes are checked against :data:`MAX_DECODED_BYTES` before anything is inflated; the members
    beside a named signal are never inflated.
    """
    arrays = {info.filename.removesuffix(".npy"): info for info in archive.infolist() if info.filename.endswith(".npy")}
    signal = next((key for key in _SIGNAL_KEYS if key in arrays), None)
    keys = arrays if signal is None else (signal, *_EXTRA_KEYS)
    wanted = [arrays[key] for key in keys if key in arrays]
    declared = sum(info.file_size for info in wanted)
    if declared > MAX_DECODED_BYTES:
        raise ECGFormatError(f"{where}: its arrays inflate to {declared} bytes; the limit is {MAX_DECODED_BYTES}")
    return wanted


def _load_npz(path: Path) -> dict[str, np.ndarray]:
    with zipfile.ZipFile(path) as archive:
        arrays = {}
        for info in _members(archive, path.name):
            with archive.open(info) as handle:
                arrays[info.filename.removesuffix(".npy")] = _load_checked(handle, f"{path.name}:{info.filename}")
    key = next((k for k in _SIGNAL_KEYS if k in arrays), None)
    if key is None:
        numeric = [k for k, a in arrays.items() if a.dtype.kind != "U" and a.size > 1]
        if len(numeric) != 1:
            raise ECGFormatError(f"{path.name}: no 'signal' array (arrays: {sorted(arrays)})")
        key = numeric[0]
    arrays["signal"] = arrays.pop(key)
    return arrays


def write(record: ECGRecord, path: Path) -> Path:
    """Write ``record`` to ``path``: ``.npy`` holds the float32 ``(leads, samples)`` signal in mV (exact);
    ``.npz`` adds ``fs`` and ``leads`` so the file reads back without options."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".npz":
        with open(path, "wb") as handle:
            np.savez(handle, signal=record.signal, fs=np.float64(record.fs), leads=np.array(record.leads))
    else:
        with open(path, "wb") as handle:
            np.save(handle, record.signal, allow_pickle=False)
    return path
