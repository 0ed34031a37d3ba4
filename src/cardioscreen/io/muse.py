"""GE MUSE XML (``<RestingECG>``): base64 little-endian int16 leads, usually only I, II and V1-V6 stored.

The four other limb leads are derived (III = II - I, aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2),
for the rhythm strip and the median beats alike. Each lead's CRC-32 is checked, so a damaged file is
refused rather than read as a plausible-looking wrong signal. Parsing goes through defusedxml.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.clinical import (
    device_measurements,
    finish_record,
    parse_xml,
    standard_order,
    text_of,
    xml_root_name,
)
from cardioscreen.io.common import check_size, millivolts_per_unit, parse_age, parse_sex
from cardioscreen.leads import normalize_lead_name
from cardioscreen.record import ECGRecord

ROOT = "RestingECG"
_MEASUREMENTS = {
    "heart_rate_bpm": "VentricularRate", "pr_ms": "PRInterval", "qrs_ms": "QRSDuration", "qt_ms": "QTInterval",
    "qtc_ms": "QTCorrected", "p_axis_deg": "PAxis", "qrs_axis_deg": "RAxis", "t_axis_deg": "TAxis",
}
_AGE_YEARS_PER_UNIT = {"YEARS": 1.0, "MONTHS": 1 / 12, "WEEKS": 7 / 365.25, "DAYS": 1 / 365.25, "HOURS": 1 / 8766}
_MAX_EXPONENT_DIGITS = 2
"""``SampleExponent`` has at most this many digits (a sign aside); a longer one is not a sampling rate."""
_SIGNATURE_LINE = re.compile(r"^\s*(confirmed|reviewed|overread|edited|read|signed)\s+by\b", re.IGNORECASE)


def sniff(path: Path, head: bytes) -> bool:
    """True for an XML document whose root element is ``RestingECG``."""
    return xml_root_name(head) == ROOT


def _lead(node: Element, where: str) -> tuple[str, np.ndarray]:
    """Name and samples (mV) of one ``<LeadData>``; the CRC-32 and the declared counts are checked."""
    name = normalize_lead_name(text_of(node, "LeadID") or "")
    try:
        raw = base64.b64decode(text_of(node, "WaveFormData") or "", validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ECGFormatError(f"{where}: lead {name}: bad base64 data ({exc})") from exc
    crc = text_of(node, "LeadDataCRC32")
    if crc is not None and crc.isdigit() and zlib.crc32(raw) != int(crc):
        raise ECGFormatError(f"{where}: lead {name}: CRC-32 mismatch, the waveform data is damaged")
    if len(raw) % 2:
        raise ECGFormatError(f"{where}: lead {name}: odd number of bytes ({len(raw)}) for 16-bit samples")
    samples = np.frombuffer(raw, dtype="<i2")
    declared = (text_of(node, "LeadSampleCountTotal") or "").strip().lstrip("0") or "0"
    if declared.isdigit() and declared != str(samples.size):  # compared as text: no int of a 5,000-digit number
        raise ECGFormatError(f"{where}: lead {name}: {samples.size} samples stored, {declared} declared")
    unit = millivolts_per_unit({"MICROVOLTS": "uV", "MILLIVOLTS": "mV"}.get(text_of(node, "LeadAmplitudeUnits")
                                                                           or "MICROVOLTS", "?"))
    try:
        per_bit = float(text_of(node, "LeadAmplitudeUnitsPerBit") or "nan")
    except ValueError:
        per_bit = float("nan")
    if unit is None or not np.isfinite(per_bit) or per_bit <= 0:
        raise ECGFormatError(f"{where}: lead {name}: no usable amplitude scale")
    return name, samples.astype(np.float64) * (per_bit * unit)


def _waveform(root: Element, kind: str, where: str) -> tuple[dict[str, np.ndarray], float] | None:
    """Leads (mV) and rate (Hz) of the ``<Waveform>`` whose ``WaveformType`` is ``kind``, or None."""
    node = next((w for w in root.iter("Waveform") if (text_of(w, "WaveformType") or "").lower() == kind), None)
    if node is None:
        return None
    base, exponent = text_of(node, "SampleBase") or "", (text_of(node, "SampleExponent") or "0").strip()
    try:  # the exponent is bounded before 10 ** it is built (10 ** 7,999,999 is a 8-million-digit integer)
        fs = float(base) * 10.0 ** int(exponent) if len(exponent.lstrip("+-")) <= _MAX_EXPONENT_DIGITS else float("nan")
    except (ValueError, OverflowError):
        fs = float("nan")
    if not math.isfinite(fs) or fs <= 0:
        raise ECGFormatError(f"{where}: {kind} waveform has no valid sampling rate "
                             f"(SampleBase {base[:20]!r}, SampleExponent {exponent[:20]!r})")
    rows = dict(_lead(lead, where) for lead in node.iter("LeadData"))
    lengths = {values.size for values in rows.values()}
    if len(lengths) != 1 or "" in rows:
        raise ECGFormatError(f"{where}: {kind} waveform leads are unnamed, missing or of unequal lengths")
    check_size(len(rows), lengths.pop(), where)
    return rows, fs


def _statements(root: Element, section: str) -> list[str]:
    """Lines of a ``<Diagnosis>``: texts joined until an ``ENDSLINE`` flag; signature lines (names) dropped."""
    node = next(root.iter(section), None)
    lines, current = [], []
    for statement in node.iter("DiagnosisStatement") if node is not None else ():
        current.append(text_of(statement, "StmtText") or "")
        if any((flag.text or "").strip() == "ENDSLINE" for flag in statement.iter("StmtFlag")):
            lines.append(" ".join(part for part in current if part))
            current = []
    lines.append(" ".join(part for part in current if part))
    return [line for line in lines if line and not _SIGNATURE_LINE.match(line)]


def _acquired(date: str | None, time: str | None) -> str | None:
    """ISO 8601 from MUSE's ``MM-DD-YYYY`` and ``HH:MM:SS``."""
    try:
        return datetime.strptime(f"{date} {time or '00:00:00'}", "%m-%d-%Y %H:%M:%S").isoformat()
    except ValueError:
        return None


def _meta(root: Element) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    age = parse_age(text_of(root, "PatientDemographics", "PatientAge"))
    scale = _AGE_YEARS_PER_UNIT.get((text_of(root, "PatientDemographics", "AgeUnits") or "YEARS").upper())
    if age is not None and scale is not None:
        meta["age"] = round(age * scale, 2)
    sex = parse_sex(text_of(root, "PatientDemographics", "Gender"))
    if sex:
        meta["sex"] = sex
    acquired = _acquired(text_of(root, "TestDemographics", "AcquisitionDate"),
                         text_of(root, "TestDemographics", "AcquisitionTime"))
    if acquired:
        meta["acquired"] = acquired
    device = text_of(root, "TestDemographics", "AcquisitionDevice")
    if device:
        meta["device"] = f"GE {device}"
    measured = {key: text_of(root, "RestingECGMeasurements", tag) for key, tag in _MEASUREMENTS.items()}
    meta["device_measurements"] = device_measurements(measured)
    meta["statements"] = _statements(root, "Diagnosis")
    original = _statements(root, "OriginalDiagnosis")
    if original and original != meta["statements"]:
        meta["original_statements"] = original
    return meta


def read(path: Path, **options: Any) -> ECGRecord:
    """Read a GE MUSE XML resting ECG.

    Returns
    -------
    ECGRecord
        The 12 standard leads (III, aVR, aVL, aVF derived when not stored), mV, at ``SampleBase`` Hz;
        ``meta`` as described in :mod:`cardioscreen.io.clinical`, with ``meta["derived_leads"]`` naming
        the leads that were computed rather than read, and ``meta["original_statements"]`` holding the
        cart's unedited interpretation when an overreader changed it (``statements`` is the final one).
    """
    if options:
        raise ECGFormatError(f"{path.name}: the MUSE reader takes no options (got {sorted(options)})")
    root = parse_xml(path, "GE MUSE XML")
    if root.tag != ROOT:
        raise ECGFormatError(f"{path.name}: root element is <{root.tag}>, not <{ROOT}>")
    rhythm = _waveform(root, "rhythm", path.name)
    if rhythm is None:
        raise ECGFormatError(f"{path.name}: no rhythm waveform in the MUSE file")
    rows, fs = rhythm
    leads, signal = standard_order(rows)
    meta = _meta(root)
    meta["derived_leads"] = [name for name in leads if name not in rows]
    median = _waveform(root, "median", path.name)
    if median is not None:
        median_leads, beats = standard_order(median[0])
        if median_leads == leads:
            meta["median_beats"] = beats.astype(np.float32)
            meta["median_beats_fs"] = median[1]
    return finish_record(signal, fs, leads, meta, where=path.name)
