"""SCP-ECG (EN 1064): a hand-written decoder, checked sample for sample against the DICOM and HL7 aECG
copies of the same recording.

Supported: sections 0-8 and 11; the default or custom Huffman tables of section 2 (or no section 2: plain
16-bit samples); first and second differences; reference-beat subtraction (section 5 beats added back at
each QRS of section 4). Not supported, and refused with :class:`ECGFormatError`: bimodal compression
(decimated rhythm data) and leads that were not recorded over the same samples.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.clinical import device_measurements, finish_record, standard_order
from cardioscreen.io.common import check_size
from cardioscreen.io.scp_ecg import sections
from cardioscreen.io.scp_ecg.huffman import Code, decode, parse_tables, undo_differences
from cardioscreen.io.scp_ecg.sections import SECTION_HEADER_BYTES, Qrs, crc_ccitt
from cardioscreen.record import ECGRecord

_MAX_BYTES = 16 * 1024 * 1024
_NANOVOLTS_PER_MV = 1e6
_POINTER_BYTES = 10


def sniff(path: Path, head: bytes) -> bool:
    """True when the record length equals the file size and section 0 (with a valid CRC) follows."""
    if len(head) < 6 + SECTION_HEADER_BYTES:
        return False
    length = struct.unpack_from("<I", head, 2)[0]
    crc, section_id, section_length = struct.unpack_from("<HHI", head, 6)
    try:
        size = path.stat().st_size
    except OSError:
        return False
    if length != size or section_id != 0 or section_length < SECTION_HEADER_BYTES or 6 + section_length > size:
        return False
    if (section_length - SECTION_HEADER_BYTES) % _POINTER_BYTES:
        return False
    if 6 + section_length <= len(head):
        return crc == crc_ccitt(head[8 : 6 + section_length])
    return head[16:22] == b"SCPECG"


def _leads_data(body: bytes, n_leads: int, n_samples: int, tables: list[tuple[Code, ...]] | None) -> np.ndarray:
    """Section 5 or 6 data after its 6-byte header: per-lead byte counts, then each lead's coded samples.

    Returns ``(n_leads, n_samples)`` int64 counts, differences undone.
    """
    order = body[4]
    lengths = struct.unpack_from(f"<{n_leads}H", body, 6)
    offset = 6 + 2 * n_leads
    if offset + sum(lengths) > len(body):
        raise ECGFormatError(f"lead data needs {sum(lengths)} bytes, the section holds {len(body) - offset}")
    rows = []
    for length in lengths:
        chunk = body[offset : offset + length]
        offset += length
        if tables is None:
            if length < 2 * n_samples:
                raise ECGFormatError(f"{length} bytes of uncompressed data for {n_samples} samples")
            values = np.frombuffer(chunk[: 2 * n_samples], dtype="<i2").astype(np.int64)
        else:
            values = decode(chunk, n_samples, tables)
        rows.append(undo_differences(values, order))
    return np.stack(rows)


def add_reference_beats(residual: np.ndarray, beats: np.ndarray, fiducial: int, complexes: list[Qrs]) -> np.ndarray:
    """Undo reference-beat subtraction.

    Parameters
    ----------
    residual : np.ndarray
        ``(leads, samples)`` rhythm with the reference beat subtracted around each QRS of type 0.
    beats : np.ndarray
        ``(leads, beat_samples)`` reference beat in the same units and rate.
    fiducial : int
        The reference beat's fiducial sample (1-based).
    complexes : list of Qrs
        Section 4's QRS complexes: subtraction zone ``start``-``end`` and ``fiducial`` (1-based samples).

    Returns
    -------
    np.ndarray
        The rhythm, ``(leads, samples)``.
    """
    rhythm = residual.copy()
    for qrs in complexes:
        if qrs.beat_type != 0:
            continue
        positions = np.arange(max(qrs.start, 1), min(qrs.end, rhythm.shape[1]) + 1)
        in_beat = fiducial - 1 + positions - qrs.fiducial
        keep = (in_beat >= 0) & (in_beat < beats.shape[1])
        rhythm[:, positions[keep] - 1] += beats[:, in_beat[keep]]
    return rhythm


def _decode(record: bytes, where: str) -> ECGRecord:
    parts = sections.split_sections(record, where)
    if 3 not in parts or 6 not in parts:
        raise ECGFormatError(f"{where}: SCP-ECG record without section {3 if 3 not in parts else 6} (leads/rhythm)")
    tables = parse_tables(parts[2]) if 2 in parts else None
    leads, subtracted = sections.lead_layout(parts[3])
    spans = {(lead.start, lead.end) for lead in leads}
    if len(spans) != 1:
        raise ECGFormatError(f"{where}: leads cover different sample ranges {sorted(spans)}; not supported")
    start, end = spans.pop()
    n_samples = end - start + 1
    check_size(len(leads), n_samples, where)
    avm, interval_us, _order, bimodal = struct.unpack_from("<HHBB", parts[6], 0)
    if bimodal:
        raise ECGFormatError(f"{where}: bimodal compression (decimated rhythm data) is not supported")
    if not avm or not interval_us:
        raise ECGFormatError(f"{where}: section 6 gives amplitude {avm} nV and sample interval {interval_us} us")
    rhythm = _leads_data(parts[6], len(leads), n_samples, tables)
    meta: dict[str, Any] = sections.patient_and_device(parts[1]) if 1 in parts else {}
    beats_mv, beat_fs = _reference_beats(parts, len(leads), tables, where)
    if subtracted:
        if beats_mv is None or beat_fs != 1e6 / interval_us or 4 not in parts:
            raise ECGFormatError(f"{where}: reference-beat subtraction without usable sections 4 and 5")
        _length_ms, fiducial, complexes = sections.qrs_locations(parts[4])
        rhythm = add_reference_beats(rhythm * (avm / _NANOVOLTS_PER_MV), beats_mv, fiducial, complexes)
    else:
        rhythm = rhythm * (avm / _NANOVOLTS_PER_MV)
    names = [lead.name for lead in leads]
    if len(set(names)) != len(names):
        raise ECGFormatError(f"{where}: duplicate leads {names}")
    ordered, signal = standard_order(dict(zip(names, rhythm, strict=True)))
    if beats_mv is not None:
        beat_leads, beat_rows = standard_order(dict(zip(names, beats_mv, strict=True)))
        if beat_leads == ordered:
            meta["median_beats"], meta["median_beats_fs"] = beat_rows.astype(np.float32), beat_fs
    meta["device_measurements"] = (
        device_measurements(sections.global_measurements(parts[7]), sections.UNDEFINED) if 7 in parts else {}
    )
    meta["statements"] = [*(sections.statements(parts[8], coded=False) if 8 in parts else []),
                          *(sections.statements(parts[11], coded=True) if 11 in parts else [])]
    return finish_record(signal, 1e6 / interval_us, ordered, meta, where=where)


def _reference_beats(
    parts: dict[int, bytes], n_leads: int, tables: list[tuple[Code, ...]] | None, where: str
) -> tuple[np.ndarray | None, float]:
    """Section 5's reference beats in mV ``(leads, samples)`` and their rate in Hz, or ``(None, 0)``."""
    if 5 not in parts or 4 not in parts:
        return None, 0.0
    avm, interval_us, _order, _reserved = struct.unpack_from("<HHBB", parts[5], 0)
    length_ms, _fiducial, _complexes = sections.qrs_locations(parts[4])
    if not avm or not interval_us or not length_ms:
        return None, 0.0
    n_samples = int(round(length_ms * 1000 / interval_us))
    check_size(n_leads, n_samples, where)
    return _leads_data(parts[5], n_leads, n_samples, tables) * (avm / _NANOVOLTS_PER_MV), 1e6 / interval_us


def read(path: Path, **options: Any) -> ECGRecord:
    """Read an SCP-ECG file.

    Returns
    -------
    ECGRecord
        Leads in standard order, mV (section 6 counts x AVM nV); section 5's reference beats in
        ``meta["median_beats"]``; section 7 measurements and section 8/11 statements.
    """
    if options:
        raise ECGFormatError(f"{path.name}: the SCP-ECG reader takes no options (got {sorted(options)})")
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise ECGFormatError(f"{path.name}: over {_MAX_BYTES >> 20} MB, too large for an SCP-ECG record")
        return _decode(path.read_bytes(), path.name)
    except ECGFormatError:
        raise
    except (struct.error, IndexError, ValueError, OverflowError, OSError) as exc:
        raise ECGFormatError(f"{path.name}: damaged SCP-ECG record: {exc}") from exc


__all__ = ["add_reference_beats", "read", "sniff"]
