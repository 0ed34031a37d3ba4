"""SCP-ECG (EN 1064 / ISO 11073-91064) record layout: CRCs, section 0 pointers, and sections 1, 3, 4, 7, 8, 11.

A record is a CRC-CCITT (2 bytes), its length (4 bytes) and sections. Each section starts with a 16-byte
header: CRC, section id, section length (header included), section and protocol version, 6 reserved bytes.
All integers are little-endian. Patient names, IDs and the birth date (section 1 tags 0-3, 5) are skipped.
"""

from __future__ import annotations

import binascii
import contextlib
import struct
from datetime import date, datetime
from typing import Any, NamedTuple

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.clinical import age_at

SECTION_HEADER_BYTES = 16
UNDEFINED = frozenset({29999.0, 29998.0, 29997.0})
"""Values SCP-ECG uses for "not measured", "rejected" and "not computed"."""

LEAD_NAMES: dict[int, str] = {
    1: "I", 2: "II", 3: "V1", 4: "V2", 5: "V3", 6: "V4", 7: "V5", 8: "V6", 9: "V7", 10: "V2R", 11: "V3R",
    12: "V4R", 13: "V5R", 14: "V6R", 15: "V7R", 16: "X", 17: "Y", 18: "Z", 61: "III", 62: "aVR", 63: "aVL",
    64: "aVF", 65: "-aVR", 66: "V8", 67: "V9", 68: "V8R", 69: "V9R",
}
_AGE_YEARS_PER_UNIT = {1: 1.0, 2: 1 / 12, 3: 7 / 365.25, 4: 1 / 365.25, 5: 1 / 8766}
_TAG_AGE, _TAG_BIRTH, _TAG_SEX, _TAG_DEVICE, _TAG_DATE, _TAG_TIME, _TAG_END = 4, 5, 8, 14, 25, 26, 255
_DEVICE_MODEL = slice(8, 14)


def crc_ccitt(data: bytes) -> int:
    """CRC-CCITT as SCP-ECG uses it (polynomial 0x1021, initial value 0xFFFF)."""
    return binascii.crc_hqx(data, 0xFFFF)


class LeadSpan(NamedTuple):
    """A lead of section 3: its name and first/last sample number (1-based, inclusive)."""

    name: str
    start: int
    end: int


class Qrs(NamedTuple):
    """A QRS complex of section 4: reference beat type and start / fiducial / end sample (1-based)."""

    beat_type: int
    start: int
    fiducial: int
    end: int


def split_sections(record: bytes, where: str) -> dict[int, bytes]:
    """Section id -> section bytes after its header, located through section 0; CRCs checked."""
    if len(record) < 6 + SECTION_HEADER_BYTES:
        raise ECGFormatError(f"{where}: {len(record)} bytes is too short for an SCP-ECG record")
    crc, length = struct.unpack_from("<HI", record, 0)
    if length != len(record):
        raise ECGFormatError(f"{where}: record declares {length} bytes, file has {len(record)} (truncated?)")
    if crc and crc != crc_ccitt(record[2:]):
        raise ECGFormatError(f"{where}: record CRC mismatch, the file is damaged")
    pointer_section = _section_at(record, 6, where)
    sections: dict[int, bytes] = {0: pointer_section}
    for offset in range(0, len(pointer_section) - 9, 10):
        section_id, section_length, index = struct.unpack_from("<HII", pointer_section, offset)
        if section_length and section_id:
            body = _section_at(record, index - 1, where)
            if len(body) + SECTION_HEADER_BYTES != section_length:
                raise ECGFormatError(f"{where}: section {section_id} length differs from its pointer")
            sections[section_id] = body
    return sections


def _section_at(record: bytes, offset: int, where: str) -> bytes:
    if offset < 6 or offset + SECTION_HEADER_BYTES > len(record):
        raise ECGFormatError(f"{where}: section pointer {offset + 1} lies outside the record")
    crc, _section_id, length = struct.unpack_from("<HHI", record, offset)
    if length < SECTION_HEADER_BYTES or offset + length > len(record):
        raise ECGFormatError(f"{where}: section at byte {offset + 1} declares {length} bytes")
    if crc and crc != crc_ccitt(record[offset + 2 : offset + length]):
        raise ECGFormatError(f"{where}: section at byte {offset + 1} fails its CRC")
    return record[offset + SECTION_HEADER_BYTES : offset + length]


def patient_and_device(body: bytes) -> dict[str, Any]:
    """Age, sex, acquisition time and device model from section 1's tagged fields."""
    fields: dict[int, bytes] = {}
    offset = 0
    while offset + 3 <= len(body):
        tag, length = struct.unpack_from("<BH", body, offset)
        if tag == _TAG_END:
            break
        fields.setdefault(tag, body[offset + 3 : offset + 3 + length])
        offset += 3 + length
    meta: dict[str, Any] = {}
    if len(fields.get(_TAG_AGE, b"")) >= 3:
        age, unit = struct.unpack_from("<HB", fields[_TAG_AGE])
        if unit in _AGE_YEARS_PER_UNIT and age:
            meta["age"] = round(age * _AGE_YEARS_PER_UNIT[unit], 2)
    sex = fields.get(_TAG_SEX, b"\x00")[:1]
    if sex in (b"\x01", b"\x02"):
        meta["sex"] = "M" if sex == b"\x01" else "F"
    if len(fields.get(_TAG_DATE, b"")) >= 4 and len(fields.get(_TAG_TIME, b"")) >= 3:
        year, month, day = struct.unpack_from("<HBB", fields[_TAG_DATE])
        hour, minute, second = struct.unpack_from("<BBB", fields[_TAG_TIME])
        with contextlib.suppress(ValueError):
            acquired = datetime(year, month, day, hour, minute, second)
            meta["acquired"] = acquired.isoformat()
            if "age" not in meta and len(fields.get(_TAG_BIRTH, b"")) >= 4:
                age = age_at(date(*struct.unpack_from("<HBB", fields[_TAG_BIRTH])), acquired)
                if age is not None:
                    meta["age"] = age
    model = fields.get(_TAG_DEVICE, b"")[_DEVICE_MODEL].split(b"\x00")[0].decode("latin-1").strip()
    if model:
        meta["device"] = model
    return meta


def lead_layout(body: bytes) -> tuple[list[LeadSpan], bool]:
    """Section 3: the leads and whether reference-beat subtraction was used."""
    n_leads, flags = body[0], body[1]
    leads = []
    for index in range(n_leads):
        start, end, lead_id = struct.unpack_from("<IIB", body, 2 + 9 * index)
        if not 1 <= start <= end:
            raise ECGFormatError(f"lead {index + 1} spans samples {start}-{end}")
        leads.append(LeadSpan(LEAD_NAMES.get(lead_id, f"SCP lead {lead_id}"), start, end))
    return leads, bool(flags & 0x01)


def qrs_locations(body: bytes) -> tuple[int, int, list[Qrs]]:
    """Section 4: reference beat length (ms), its fiducial sample (1-based), and the QRS complexes."""
    length_ms, fiducial, count = struct.unpack_from("<HHH", body, 0)
    complexes = [Qrs(*struct.unpack_from("<HIII", body, 6 + 14 * index)) for index in range(count)]
    return length_ms, fiducial, complexes


def global_measurements(body: bytes) -> dict[str, float]:
    """Section 7: intervals (ms), axes (degrees) and rates of the first (dominant) reference beat."""
    n_blocks, n_spikes, rr, _pp = struct.unpack_from("<BBHH", body, 0)
    values: dict[str, float] = {"rr_ms": float(rr)}
    if n_blocks:
        p_on, _p_off, qrs_on, qrs_off, t_off, p_axis, qrs_axis, t_axis = struct.unpack_from("<5H3h", body, 6)
        defined = {name: v for name, v in (("p", p_on), ("qrs", qrs_on), ("qrs_off", qrs_off), ("t", t_off))
                   if float(v) not in UNDEFINED}
        if {"p", "qrs"} <= set(defined):
            values["pr_ms"] = float(defined["qrs"] - defined["p"])
        if {"qrs", "qrs_off"} <= set(defined):
            values["qrs_ms"] = float(defined["qrs_off"] - defined["qrs"])
        if {"qrs", "t"} <= set(defined):
            values["qt_ms"] = float(defined["t"] - defined["qrs"])
        values.update(p_axis_deg=float(p_axis), qrs_axis_deg=float(qrs_axis), t_axis_deg=float(t_axis))
    offset = 6 + 16 * n_blocks + 10 * n_spikes
    if offset + 2 <= len(body):
        (n_qrs,) = struct.unpack_from("<H", body, offset)
        offset += 2 + n_qrs
        if offset + 6 <= len(body):
            rate, _atrial, qtc = struct.unpack_from("<HHH", body, offset)
            values.update(heart_rate_bpm=float(rate or 29999), qtc_ms=float(qtc or 29999))
    return {name: value for name, value in values.items() if value not in UNDEFINED}


def statements(body: bytes, coded: bool) -> list[str]:
    """Interpretive statements of section 8 (full text) or 11 (universal codes / text, ``coded=True``)."""
    count = body[7]
    offset, lines = 8, []
    for _ in range(count):
        _sequence, length = struct.unpack_from("<BH", body, offset)
        text = body[offset + 3 + (1 if coded else 0) : offset + 3 + length]
        line = text.split(b"\x00")[0].decode("latin-1").strip()
        if line:
            lines.append(line)
        offset += 3 + length
    return lines
