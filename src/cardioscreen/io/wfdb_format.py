"""WFDB records (``.hea`` + ``.dat``), including the PhysioNet/CinC challenge variant (``.hea`` + ``.mat``).

The challenge headers carry ``# Age:``, ``# Sex:`` and ``# Dx:`` (SNOMED-CT codes) comment lines; they
become ``meta["age"]``, ``meta["sex"]`` and ``meta["dx"]``. Samples are converted to mV whatever unit the
header declares; the header's gain is trusted (some Georgia records use 4880/mV). Channels whose unit is not
a voltage (blood pressure, respiration...) are dropped with a log message.
Simple single-file format-16 records (PTB-XL, challenge, LUDB) are read by :mod:`cardioscreen.io.wfdb_header`
without the wfdb library, with identical results; anything else goes through wfdb.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.common import check_size, library_errors, millivolts_per_unit, parse_age, parse_codes, parse_sex
from cardioscreen.io.wfdb_header import SimpleHeader, parse_simple_header, read_physical
from cardioscreen.record import MAX_FS_HZ, MIN_FS_HZ, ECGRecord

logger = logging.getLogger(__name__)

SIGNAL_SUFFIXES = (".dat", ".mat")
_RECORD_LINE = re.compile(rb"^[\w\-.~]+(/\d+)?\s+\d+(\s+[\d.eE+\-]+(/[\d.eE+\-]+)?(\([\d.eE+\-]+\))?)?(\s+\d+)?")
_BYTES_PER_SAMPLE: dict[str, float] = {
    "8": 1, "16": 2, "24": 3, "32": 4, "61": 2, "80": 1, "160": 2, "212": 1.5, "310": 4 / 3, "311": 4 / 3,
}
"""Bytes per sample of WFDB's uncompressed formats (FLAC formats 508/516/524 are not size-checked)."""
_WRITE_FULL_SCALE = 32000
"""Largest absolute digital value the writer uses (int16 holds 32767; -32768 is WFDB's invalid marker)."""
_MAX_WRITE_GAIN = 1_000_000.0
"""Highest gain the writer uses (1 nV per unit): beyond it the header's text loses precision."""
_COMMENT_KEYS = {"age": "age", "<age>": "age", "sex": "sex", "<sex>": "sex", "dx": "dx"}


def sniff(path: Path, head: bytes) -> bool:
    """True for a WFDB header, or for a ``.dat``/``.mat`` signal file with its ``.hea`` beside it."""
    if path.suffix.lower() in SIGNAL_SUFFIXES:
        return path.with_suffix(".hea").is_file()
    if path.suffix.lower() != ".hea":
        return False
    lines = [line.strip() for line in head.splitlines() if line.strip() and not line.lstrip().startswith(b"#")]
    return bool(lines) and _RECORD_LINE.match(lines[0]) is not None


def signal_file_names(header: bytes) -> list[str]:
    """The signal files a WFDB header names (the first field of each signal line), in order, without repeats."""
    lines = [line.split() for line in header.decode("ascii", errors="ignore").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return list(dict.fromkeys(fields[0] for fields in lines[1:] if fields))


def header_path(path: Path) -> Path:
    """The ``.hea`` file of the record that ``path`` (header or signal file) belongs to."""
    header = path if path.suffix.lower() == ".hea" else path.with_suffix(".hea")
    if not header.is_file():
        raise ECGFormatError(f"{path.name}: WFDB signal file without its header {header.name}")
    return header


def read(path: Path, **options: Any) -> ECGRecord:
    """Read a WFDB record.

    Parameters
    ----------
    path : Path
        The ``.hea`` header or the ``.dat``/``.mat`` signal file beside it.
    **options
        None are used; passing any raises :class:`ECGFormatError`.

    Returns
    -------
    ECGRecord
        Signal ``(leads, samples)`` in mV; ``meta`` has ``record_id`` and, where the header has them,
        ``age`` (years), ``sex`` (``"M"``/``"F"``) and ``dx`` (list of SNOMED-CT codes).
    """
    if options:
        raise ECGFormatError(f"WFDB files take no options; got {sorted(options)}")
    header = header_path(path)
    record_name = str(header.with_suffix(""))
    with library_errors(header, "WFDB header"):
        head: Any = parse_simple_header(header.read_bytes())
        if head is None:  # what the fast reader does not cover goes to the wfdb library (slow to import)
            import wfdb

            head = wfdb.rdheader(record_name)
            if not isinstance(head, wfdb.Record):
                raise ECGFormatError(f"{header.name}: multi-segment WFDB records are not supported")
        _check_header(head, header)
        keep, factors = _voltage_channels(head, header)
        names = tuple(str(head.sig_name[i]) if head.sig_name and head.sig_name[i] else f"lead{i + 1}" for i in keep)
    with library_errors(header, "WFDB signals"):
        if isinstance(head, SimpleHeader):
            physical = read_physical(head, header, keep)
        else:
            import wfdb

            physical = np.asarray(wfdb.rdrecord(record_name, channels=keep, return_res=32).p_signal)
    if physical.ndim != 2 or physical.shape != (int(head.sig_len), len(keep)):
        raise ECGFormatError(f"{header.name}: signal file does not hold {head.sig_len} samples per channel")
    signal = physical.T * np.asarray(factors, dtype=np.float32)[:, None]
    return ECGRecord(signal, float(head.fs), names, _meta(head, header))


def _check_header(head: Any, header: Path) -> None:
    n_sig, fs, sig_len = int(head.n_sig or 0), float(head.fs or 0), head.sig_len
    if n_sig < 1:
        raise ECGFormatError(f"{header.name}: header declares no signals")
    if not math.isfinite(fs) or not MIN_FS_HZ <= fs <= MAX_FS_HZ:
        raise ECGFormatError(f"{header.name}: sampling rate {fs:g} Hz is outside {MIN_FS_HZ:g}-{MAX_FS_HZ:g} Hz")
    if sig_len is None:
        raise ECGFormatError(f"{header.name}: header does not give the number of samples")
    described = len(head.file_name or [])
    if described != n_sig:
        raise ECGFormatError(f"{header.name}: header declares {n_sig} signals but describes {described}")
    check_size(n_sig, int(sig_len), header.name)
    if any(spf not in (None, 1) for spf in head.samps_per_frame or []):
        raise ECGFormatError(f"{header.name}: multi-frequency WFDB records (samples per frame > 1) are not supported")
    for file_name in dict.fromkeys(head.file_name):  # each file once (12 channels usually share one)
        signal_file = header.parent / file_name
        if signal_file.parent != header.parent:  # every format, FLAC included
            raise ECGFormatError(f"{header.name}: signal file {file_name!r} is not beside the header")
        if not signal_file.is_file():
            raise ECGFormatError(f"{header.name}: signal file {file_name} is missing")
    needed: dict[str, float] = {}
    for file_name, fmt, offset in zip(head.file_name, head.fmt, head.byte_offset or [None] * n_sig, strict=False):
        if fmt in _BYTES_PER_SAMPLE:
            needed[file_name] = needed.get(file_name, float(offset or 0)) + _BYTES_PER_SAMPLE[fmt] * int(sig_len)
    for file_name, n_bytes in needed.items():
        size = (header.parent / file_name).stat().st_size
        if size < math.floor(n_bytes):
            raise ECGFormatError(
                f"{file_name} is truncated: {size} bytes, the header promises {math.floor(n_bytes)}"
            )


def _voltage_channels(head: Any, header: Path) -> tuple[list[int], list[float]]:
    """Indices of channels in a voltage unit and their factors to mV."""
    keep, factors = [], []
    for i, unit in enumerate(head.units or ["mV"] * head.n_sig):
        factor = millivolts_per_unit(unit or "mV")
        if factor is None:
            logger.info("%s: dropping channel %d (unit %r is not a voltage)", header.name, i + 1, unit)
            continue
        keep.append(i)
        factors.append(factor)
    if not keep:
        raise ECGFormatError(f"{header.name}: no channel is in a voltage unit (units: {head.units})")
    return keep, factors


def _meta(head: Any, header: Path) -> dict[str, Any]:
    meta: dict[str, Any] = {"record_id": header.stem}
    for comment in head.comments or []:
        key, _, value = comment.partition(":")
        field = _COMMENT_KEYS.get(key.strip().lower())
        if field == "age" and (age := parse_age(value)) is not None:
            meta["age"] = age
        elif field == "sex" and (sex := parse_sex(value)) is not None:
            meta["sex"] = sex
        elif field == "dx" and (codes := parse_codes(value)):
            meta["dx"] = codes
    return meta


def write(record: ECGRecord, path: Path) -> Path:
    """Write ``record`` as a WFDB record (format 16) named after ``path``; returns the ``.hea`` path.

    Each lead gets the largest integer gain (digital units per mV, at most 10^6) that keeps its samples
    within +/-32000, so the round-trip error is at most half a quantisation step, ``0.5 / gain`` mV.
    ``age``, ``sex`` and ``dx`` from ``meta`` are written as challenge-style comment lines.
    """
    import wfdb

    path = Path(path)
    name = path.stem if path.suffix.lower() in (".hea", *SIGNAL_SUFFIXES) else path.name
    if not re.fullmatch(r"[\w\-]+", name):
        raise ECGFormatError(f"WFDB record name {name!r} may only hold letters, digits, '-' and '_'")
    peak = np.abs(record.signal).max(axis=1).astype(np.float64)
    gains = np.where(peak > 0, np.floor(_WRITE_FULL_SCALE / np.maximum(peak, 1e-12)), _MAX_WRITE_GAIN)
    gains = np.minimum(gains, _MAX_WRITE_GAIN)
    if (gains < 1).any():
        raise ECGFormatError(f"amplitudes above {_WRITE_FULL_SCALE} mV cannot be written as 16-bit WFDB")
    digital = np.round(record.signal.T.astype(np.float64) * gains).astype(np.int16)
    comments = [f"{label}: {value}" for label, value in
                (("Age", record.meta.get("age")), ("Sex", record.meta.get("sex"))) if value is not None]
    if record.meta.get("dx"):
        comments.append("Dx: " + ",".join(str(code) for code in record.meta["dx"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with library_errors(path, "WFDB output"):
        wfdb.wrsamp(name, fs=record.fs, units=["mV"] * record.n_leads, sig_name=list(record.leads),
                    d_signal=digital, fmt=["16"] * record.n_leads, adc_gain=[float(g) for g in gains],
                    baseline=[0] * record.n_leads, comments=comments, write_dir=str(path.parent))
    return path.parent / f"{name}.hea"
