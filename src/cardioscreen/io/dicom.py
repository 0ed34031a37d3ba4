"""DICOM waveform ECG (12-lead ECG / General ECG Waveform Storage), read with pydicom.

pydicom parses the file and hands over the raw multiplex; scaling is done here: for each channel,
``value = raw * ChannelSensitivity * ChannelSensitivityCorrectionFactor + ChannelBaseline`` in the channel's
sensitivity units (uV, mV...), converted to mV. The declared ``WaveformPaddingValue`` is **not** turned into
NaN sample by sample: ECG Toolkit writes 0 as the padding value while 0 is also a real sample (about 2 % of
the shared file), so padding is only recognised where it can be told apart — as a span where every channel
holds it, at an end of the strip, which :mod:`cardioscreen.io.quirks` cuts off.
"""

from __future__ import annotations

import os
import re
import struct
import warnings
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.clinical import age_at, device_measurements, finish_record, standard_order
from cardioscreen.io.common import check_inflated_size, check_size, library_errors, millivolts_per_unit, parse_sex
from cardioscreen.io.quirks import INT16_FILL, unfilled_length
from cardioscreen.leads import normalize_lead_name
from cardioscreen.record import ECGRecord

_PREAMBLE_BYTES = 128
_GROUP_LENGTH_BYTES = 12
"""The (0002,0000) UL element that opens the file meta group: tag, VR, length, value."""
_RHYTHM_LABELS = ("RHYTHM",)
_MEDIAN_LABELS = ("MEDIAN BEAT", "REPRESENTATIVE BEAT", "MEDIAN")
_MEASUREMENTS = {
    "heart rate": "heart_rate_bpm", "ventricular heart rate": "heart_rate_bpm", "rr interval": "rr_ms",
    "pr interval": "pr_ms", "qrs duration": "qrs_ms", "qt interval": "qt_ms", "qtc interval": "qtc_ms",
    "p axis": "p_axis_deg", "qrs axis": "qrs_axis_deg", "t axis": "t_axis_deg",
}
_AGE_UNITS = {"Y": 1.0, "M": 1 / 12, "W": 7 / 365.25, "D": 1 / 365.25}


def sniff(path: Path, head: bytes) -> bool:
    """True for a DICOM Part 10 file: ``"DICM"`` after the 128-byte preamble."""
    return head[_PREAMBLE_BYTES : _PREAMBLE_BYTES + 4] == b"DICM"


def _group_index(ds: Any, labels: tuple[str, ...]) -> int | None:
    """Index of the first multiplex group whose label is one of ``labels``."""
    for index, group in enumerate(ds.WaveformSequence):
        if str(group.get("MultiplexGroupLabel", "")).strip().upper() in labels:
            return index
    return None


def _padding(group: Any) -> int | None:
    """The group's declared padding value as a raw sample, or None."""
    value = group.get("WaveformPaddingValue")
    if not isinstance(value, bytes | bytearray) or len(value) != 2:
        return None
    signed = str(group.get("WaveformSampleInterpretation", "SS")) == "SS"
    return int.from_bytes(value, "little", signed=signed)


def _lead_name(meaning: str, number: int) -> str:
    """Lead name from a channel source's code meaning: ``"Lead I"``, ``"Lead I (Einthoven)"``,
    ``"Lead aVR, augmented voltage, redirected"``..."""
    match = re.match(r"\s*lead\s+([A-Za-z0-9\-]+)", meaning, re.IGNORECASE)
    token = match.group(1) if match else meaning or f"channel {number}"
    return token if token.startswith("-") else normalize_lead_name(token)


def _channels(group: Any) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Lead names, mV per raw unit (NaN for a channel that is not a voltage), and offset (mV) of each channel."""
    names, gains, offsets = [], [], []
    for number, channel in enumerate(group.ChannelDefinitionSequence, start=1):
        source = channel.get("ChannelSourceSequence")
        units = channel.get("ChannelSensitivityUnitsSequence")
        to_mv = millivolts_per_unit(str(units[0].get("CodeValue", "")) if units else "")
        sensitivity = float(channel.get("ChannelSensitivity", 1.0))
        correction = float(channel.get("ChannelSensitivityCorrectionFactor", 1.0))
        names.append(_lead_name(str(source[0].get("CodeMeaning", "")) if source else "", number))
        gains.append(float("nan") if to_mv is None else sensitivity * correction * to_mv)
        offsets.append(float(channel.get("ChannelBaseline", 0.0)) * (to_mv or 0.0))
    return names, np.asarray(gains), np.asarray(offsets)


class _Group(NamedTuple):
    """One multiplex group: lead names, raw samples and mV ``(channels, samples)``, mV per raw unit, Hz."""

    names: list[str]
    raw: np.ndarray
    mv: np.ndarray
    gains: np.ndarray
    fs: float
    padding: int | None


def _multiplex(ds: Any, index: int, where: str) -> _Group:
    """Decode the voltage channels of multiplex group ``index`` of the Waveform Sequence (others are dropped)."""
    from pydicom.waveforms import multiplex_array

    group = ds.WaveformSequence[index]
    n_channels, n_samples = int(group.NumberOfWaveformChannels), int(group.NumberOfWaveformSamples)
    check_size(n_channels, n_samples, where)
    bytes_needed = n_channels * n_samples * int(group.WaveformBitsAllocated) // 8
    if len(group.WaveformData) < bytes_needed:
        raise ECGFormatError(f"{where}: waveform data is {len(group.WaveformData)} bytes, {bytes_needed} declared")
    names, gains, offsets = _channels(group)
    if len(names) != n_channels:
        raise ECGFormatError(f"{where}: {len(names)} channel definitions for {n_channels} channels")
    volts = np.isfinite(gains)
    if not volts.any():
        raise ECGFormatError(f"{where}: no channel of the waveform is in volts")
    raw = multiplex_array(ds, index, as_raw=True).T[volts].astype(np.float64)
    mv = raw * gains[volts, None] + offsets[volts, None]
    kept = [name for name, keep in zip(names, volts, strict=True) if keep]
    return _Group(kept, raw, mv, gains[volts], float(group.SamplingFrequency), _padding(group))


def _age(value: str) -> float | None:
    """Years from a DICOM age string (``"045Y"``, ``"006M"``)."""
    match = re.fullmatch(r"(\d{3})([DWMY])", value.strip())
    return round(int(match.group(1)) * _AGE_UNITS[match.group(2)], 2) if match else None


def _annotations(ds: Any) -> tuple[list[str], dict[str, float]]:
    """Free-text statements and numeric global measurements of the Waveform Annotation Sequence."""
    statements: list[str] = []
    measured: dict[str, Any] = {}
    for item in ds.get("WaveformAnnotationSequence", []):
        text = str(item.get("UnformattedTextValue", "") or "").strip()
        if text:
            statements.append(text)
        concept = item.get("ConceptNameCodeSequence")
        meaning = str(concept[0].get("CodeMeaning", "")).strip().lower() if concept else ""
        if meaning in _MEASUREMENTS and item.get("NumericValue") is not None:
            measured.setdefault(_MEASUREMENTS[meaning], item.NumericValue)
    return statements, device_measurements(measured)


def _dicom_time(value: str) -> datetime | None:
    """A DICOM DA/DT value (``YYYYMMDD[HHMM[SS]]``) as a datetime, or None."""
    for layout, width in (("%Y%m%d%H%M%S", 14), ("%Y%m%d%H%M", 12), ("%Y%m%d", 8)):
        try:
            return datetime.strptime(value.strip()[:width], layout)
        except ValueError:
            continue
    return None


def _meta(ds: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    age = _age(str(ds.get("PatientAge", "") or ""))
    if age is not None:
        meta["age"] = age
    sex = parse_sex(ds.get("PatientSex", ""))
    if sex:
        meta["sex"] = sex
    acquired = _dicom_time(str(ds.get("AcquisitionDateTime", "") or ""))
    if acquired is not None:
        meta["acquired"] = acquired.isoformat()
        birth = _dicom_time(str(ds.get("PatientBirthDate", "") or ""))
        if "age" not in meta and birth is not None:
            age_years = age_at(birth, acquired)
            if age_years is not None:
                meta["age"] = age_years
    device = " ".join(
        str(ds.get(key, "") or "").strip() for key in ("Manufacturer", "ManufacturerModelName")
        if str(ds.get(key, "") or "").strip().lower() not in ("", "unknown")
    )
    if device:
        meta["device"] = device
    meta["statements"], meta["device_measurements"] = _annotations(ds)
    return meta


def _check_inflated(path: Path, where: str) -> None:
    """Refuse a Deflated Explicit VR file whose dataset inflates past :data:`MAX_DECODED_BYTES` (pydicom inflates
    it whole, in memory), measured without keeping anything."""
    import pydicom

    syntax = pydicom.filereader.read_file_meta_info(path).get("TransferSyntaxUID")
    if syntax != pydicom.uid.DeflatedExplicitVRLittleEndian:
        return
    with open(path, "rb") as handle:
        handle.seek(_PREAMBLE_BYTES + 4)
        group_length = handle.read(_GROUP_LENGTH_BYTES)
        if len(group_length) < _GROUP_LENGTH_BYTES or not group_length.startswith(b"\x02\x00\x00\x00UL"):
            raise ECGFormatError(f"{where}: deflated DICOM file without a file meta group length")
        handle.seek(int.from_bytes(group_length[8:], "little"), os.SEEK_CUR)
        check_inflated_size(handle, path.stat().st_size, where, wbits=-zlib.MAX_WBITS)


def _read(path: Path) -> ECGRecord:
    import pydicom

    where = path.name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check_inflated(path, where)
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        if "WaveformSequence" not in ds:
            raise ECGFormatError(f"{where}: DICOM file holds no waveform (SOP class {ds.get('SOPClassUID', '?')})")
        rhythm = _group_index(ds, _RHYTHM_LABELS)
        strip = _multiplex(ds, 0 if rhythm is None else rhythm, where)
        median = _group_index(ds, _MEDIAN_LABELS)
        beats = _multiplex(ds, median, where) if median is not None else None
        meta = _meta(ds)
    if len(set(strip.names)) != len(strip.names):
        raise ECGFormatError(f"{where}: duplicate channel names {strip.names}")
    leads, rows = standard_order(dict(zip(strip.names, strip.mv, strict=True)))
    if beats is not None:
        fill = INT16_FILL + (() if beats.padding is None else (beats.padding,))
        kept = unfilled_length(beats.raw, fill)
        beat_leads, beat_rows = standard_order(dict(zip(beats.names, beats.mv[:, :kept], strict=True)))
        if beat_leads == leads and kept:
            meta["median_beats"], meta["median_beats_fs"] = beat_rows.astype(np.float32), beats.fs
    uniform = bool(np.all(strip.gains == strip.gains[0]))
    padding_mv = strip.padding * float(strip.gains[0]) if strip.padding is not None and uniform else None
    return finish_record(rows, strip.fs, leads, meta, where=where, padding_mv=padding_mv)


def read(path: Path, **options: Any) -> ECGRecord:
    """Read a DICOM ECG waveform file.

    The ``RHYTHM`` multiplex group (else the first group) is the record; a ``MEDIAN BEAT`` group goes to
    ``meta["median_beats"]``. Returns leads in standard order, mV.
    """
    from pydicom.errors import BytesLengthException, InvalidDicomError

    if options:
        raise ECGFormatError(f"{path.name}: the DICOM reader takes no options (got {sorted(options)})")
    with library_errors(path, "DICOM waveform", extra=(InvalidDicomError, BytesLengthException, struct.error)):
        return _read(path)
