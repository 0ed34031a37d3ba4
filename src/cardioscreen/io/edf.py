"""EDF / EDF+ (and BDF) files, read and written with pyedflib.

Channels whose physical dimension is a voltage (nV, uV, mV, V) are read and scaled to mV; the others
(respiration, SpO2, annotations...) are dropped with a log message. EDF allows a different rate per channel:
the ECG is the voltage channels at the most common rate among them.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.common import check_size, library_errors, millivolts_per_unit, parse_sex
from cardioscreen.record import ECGRecord

logger = logging.getLogger(__name__)

_EDF_VERSION = b"0       "
_BDF_VERSION = b"\xffBIOSEMI"
_HEADER_BYTES = 256
_DIGITAL_MIN, _DIGITAL_MAX = -32768, 32767
_RECORD_DURATIONS_S = (1.0, 2.0, 0.5, 5.0, 0.25, 0.2, 10.0, 0.1, 0.05, 0.04, 0.025, 0.02, 0.01, 0.005, 0.002, 0.001)
"""Data-record durations the writer tries, each exact in EDF's 8-character field, largest usual first."""


def sniff(path: Path, head: bytes) -> bool:
    """True for an EDF/EDF+ (version field ``"0"``) or BDF header with a numeric header-size field."""
    if len(head) < _HEADER_BYTES or head[:8] not in (_EDF_VERSION, _BDF_VERSION):
        return False
    return head[184:192].strip().isdigit()


def read(path: Path, **options: Any) -> ECGRecord:
    """Read an EDF, EDF+ or BDF file.

    Parameters
    ----------
    path : Path
        The file.
    **options
        None are used; passing any raises :class:`ECGFormatError`.

    Returns
    -------
    ECGRecord
        The voltage channels at their common rate, in mV. ``meta`` may hold ``sex``, ``age`` (years, from
        the EDF+ birth date and start date; the birth date itself is not kept), ``device`` and ``acquired``
        (ISO start time).
    """
    import pyedflib

    if options:
        raise ECGFormatError(f"EDF files take no options; got {sorted(options)}")
    with library_errors(path, "EDF file"), pyedflib.EdfReader(
        str(path), annotations_mode=pyedflib.DO_NOT_READ_ANNOTATIONS
    ) as edf:
        channels, fs = _ecg_channels(edf, path)
        n_samples = {int(edf.getNSamples()[i]) for i in channels}
        check_size(len(channels), max(n_samples), path.name)
        if len(n_samples) > 1:
            raise ECGFormatError(f"{path.name}: ECG channels have different lengths {sorted(n_samples)}")
        rows = [edf.readSignal(i) * factor for i, factor in channels.items()]
        leads = tuple(edf.getLabel(i).strip() or f"channel{i + 1}" for i in channels)
        meta = _meta(edf)
    return ECGRecord(np.stack(rows).astype(np.float32), fs, leads, meta)


def _ecg_channels(edf: Any, path: Path) -> tuple[dict[int, float], float]:
    """Voltage channels at their most common sampling rate (index -> factor to mV), and that rate in Hz."""
    rates = edf.getSampleFrequencies()
    voltage: dict[int, float] = {}
    for i in range(edf.signals_in_file):
        unit = edf.getPhysicalDimension(i)
        factor = millivolts_per_unit(unit)
        if factor is None:
            logger.info("%s: dropping channel %r (dimension %r is not a voltage)", path.name, edf.getLabel(i), unit)
        else:
            voltage[i] = factor
    if not voltage:
        raise ECGFormatError(f"{path.name}: no channel has a voltage dimension (uV, mV, V)")
    fs = Counter(float(rates[i]) for i in voltage).most_common(1)[0][0]
    channels = {i: factor for i, factor in voltage.items() if float(rates[i]) == fs}
    if len(channels) < len(voltage):
        logger.info("%s: keeping the %d channels at %g Hz", path.name, len(channels), fs)
    return channels, fs


def _meta(edf: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if (sex := parse_sex(edf.getSex())) is not None:
        meta["sex"] = sex
    if equipment := edf.getEquipment().strip():
        meta["device"] = equipment
    start = edf.getStartdatetime()
    meta["acquired"] = start.isoformat()
    try:
        born = datetime.strptime(edf.getBirthdate().strip(), "%d %b %Y")
    except ValueError:
        return meta
    age = (start - born).days / 365.25
    if 0 <= age <= 130:
        meta["age"] = round(age, 1)
    return meta


def _record_duration(fs: float, n_samples: int) -> float | None:
    """A data-record duration (s) holding a whole number of samples that divides ``n_samples``, if any."""
    for duration in _RECORD_DURATIONS_S:
        per_record = fs * duration
        if abs(per_record - round(per_record)) < 1e-9 and round(per_record) >= 1 and n_samples % round(per_record) == 0:
            return duration
    return None


def write(record: ECGRecord, path: Path) -> Path:
    """Write ``record`` as EDF+ (16-bit) to ``path`` and return it.

    Physical values are stored in uV with integer physical minimum/maximum per lead (exact in the header's
    8-character fields) and rounded to the nearest digital value here (edflib would truncate), so the
    round-trip error is at most half a step of ``(max - min) / 65535`` uV.
    """
    import pyedflib

    path = Path(path)
    microvolts = record.signal.astype(np.float64) * 1000.0
    low = np.floor(microvolts.min(axis=1))
    high = np.maximum(np.ceil(microvolts.max(axis=1)), low + 1)
    if np.abs(np.concatenate([low, high])).max() > 9_999_999:
        raise ECGFormatError("amplitudes above 9999 mV cannot be written to EDF")
    steps = (high - low) / (_DIGITAL_MAX - _DIGITAL_MIN)
    digital = np.round((microvolts - low[:, None]) / steps[:, None]) + _DIGITAL_MIN
    digital = np.ascontiguousarray(np.clip(digital, _DIGITAL_MIN, _DIGITAL_MAX), dtype=np.int32)
    headers: list[dict[str, Any]] = [
        {"label": name, "dimension": "uV", "sample_frequency": record.fs, "physical_min": float(lo),
         "physical_max": float(hi), "digital_min": _DIGITAL_MIN, "digital_max": _DIGITAL_MAX, "transducer": "",
         "prefilter": ""}
        for name, lo, hi in zip(record.leads, low, high, strict=True)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    duration = _record_duration(record.fs, record.n_samples)
    with library_errors(path, "EDF output"):
        writer = pyedflib.EdfWriter(str(path), record.n_leads, file_type=pyedflib.FILETYPE_EDFPLUS)
        try:
            writer.setSignalHeaders(headers)
            if duration is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    writer.setDatarecordDuration(duration)
            else:
                logger.warning("%s: %d samples at %g Hz do not fill whole EDF data records; the last one is "
                               "padded", path.name, record.n_samples, record.fs)
            writer.writeSamples(list(digital), digital=True)
        finally:
            writer.close()
    return path
