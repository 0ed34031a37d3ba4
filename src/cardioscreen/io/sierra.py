"""Philips Sierra XML 1.03 / 1.04 (``<restingecgdata>``): XLI-compressed or plain base64 int16 leads.

The XML is parsed once with defusedxml; the XLI chunks (LZW + second-difference coding) are decoded with
the ``sierraecg`` package's LZW decoder and delta decoder — measured correct on both shared files, where
its ``read_file`` and this reader agree sample for sample — inside a loop that checks every chunk header,
so a damaged file raises :class:`ECGFormatError` instead of looping or allocating without bound. XLI stores
III, aVR, aVL and aVF as residuals against the leads computed from I and II; they are rebuilt here with the
same integer arithmetic as Philips' reference decoder. The 1 mV calibration pulse and the flat filler at
the end of every strip are cut off (:mod:`cardioscreen.io.quirks`).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.clinical import (
    age_at,
    device_measurements,
    find_local,
    finish_record,
    local_name,
    parse_xml,
    standard_order,
    text_of,
    xml_root_name,
)
from cardioscreen.io.common import check_size, parse_sex
from cardioscreen.io.quirks import unfilled_length
from cardioscreen.leads import STANDARD_LEADS, normalize_lead_name
from cardioscreen.record import ECGRecord

ROOT = "restingecgdata"
VERSIONS = ("1.03", "1.04", "1.04.01", "1.04.02")
_XLI_HEADER_BYTES = 8
_MEASUREMENTS: dict[str, tuple[str, ...]] = {
    "heart_rate_bpm": ("heartrate",), "rr_ms": ("rrint",), "pr_ms": ("print", "meanprint"),
    "qrs_ms": ("qrsdur", "meanqrsdur"), "qt_ms": ("qtint", "meanqtint"), "qtc_ms": ("qtcb", "meanqtc"),
    "p_axis_deg": ("pfrontaxis",), "qrs_axis_deg": ("qrsfrontaxis",), "t_axis_deg": ("tfrontaxis",),
}


def sniff(path: Path, head: bytes) -> bool:
    """True for an XML document whose root element is ``restingecgdata`` (UTF-8 or UTF-16)."""
    return xml_root_name(head) == ROOT


def xli_decode(data: bytes, n_leads: int, n_samples: int, where: str) -> np.ndarray:
    """Decode XLI-compressed leads.

    Parameters
    ----------
    data : bytes
        The base64-decoded ``<parsedwaveforms>`` content: per lead an 8-byte header (chunk size, int32 LE;
        2 unused bytes; first sample, int16 LE) and an LZW (10-bit codes) stream of second differences.
    n_leads, n_samples : int
        What the header declares.
    where : str
        File name for messages.

    Returns
    -------
    np.ndarray
        Shape ``(n_leads, n_samples)``, int64 ADC counts, derived-lead residuals not yet rebuilt. Chunks
        after the declared leads (carts store 4 unused channels) are not decoded.
    """
    from sierraecg.lzw import LzwDecoder

    leads: list[np.ndarray] = []
    offset = 0
    cap = 2 * n_samples + 2
    while len(leads) < n_leads:
        if offset + _XLI_HEADER_BYTES > len(data):
            raise ECGFormatError(f"{where}: XLI data ends after {len(leads)} of {n_leads} leads")
        size = int.from_bytes(data[offset : offset + 4], "little", signed=True)
        first = int.from_bytes(data[offset + 6 : offset + 8], "little", signed=True)
        offset += _XLI_HEADER_BYTES
        if size <= 0 or offset + size > len(data):
            left = len(data) - offset
            raise ECGFormatError(f"{where}: XLI chunk {len(leads) + 1} declares {size} bytes, {left} left")
        decoder = LzwDecoder(data[offset : offset + size], bits=10)
        offset += size
        try:
            buffer = bytes(islice(iter(decoder.read, -1), cap + 1))
        except IndexError as exc:  # sierraecg's decoder meeting a code it has not defined yet
            raise ECGFormatError(f"{where}: XLI chunk {len(leads) + 1} holds damaged LZW codes") from exc
        if len(buffer) > cap:
            raise ECGFormatError(f"{where}: XLI chunk {len(leads) + 1} expands beyond {n_samples} samples")
        samples = _undo_xli_deltas(np.frombuffer(buffer, dtype=np.uint8), first)[:n_samples]
        if samples.size < n_samples or np.abs(samples).max(initial=0) > np.iinfo(np.int16).max:
            raise ECGFormatError(f"{where}: XLI lead {len(leads) + 1} decodes to {samples.size} samples out of range")
        leads.append(samples)
    return np.stack(leads)


def _undo_xli_deltas(buffer: np.ndarray, first: int) -> np.ndarray:
    """Samples from an XLI chunk's LZW output: sierraecg's ``xli_unpack`` + ``xli_decode_deltas``, vectorised.

    The bytes hold the high bytes of all 16-bit values, then the low bytes. Values 0 and 1 are samples;
    after that ``x[i] = 2 x[i-1] - x[i-2] - c[i]`` with ``c[2] = first`` and ``c[i] = v[i-1] - 64`` (``v``: the
    stored values).
    """
    half = (buffer.size + 1) // 2
    high, low = buffer[:half].astype(np.int64), np.pad(buffer[half:], (0, 2 * half - buffer.size)).astype(np.int64)
    values = ((high << 8) | low).astype(np.uint16).astype(np.int16).astype(np.int64)
    if values.size < 3:
        return values
    corrections = np.concatenate(([first], values[2:-1] - 64))
    slopes = np.concatenate(([values[1] - values[0]], -corrections))
    return values[0] + np.concatenate(([0], np.cumsum(np.cumsum(slopes))))


def rebuild_limb_leads(counts: np.ndarray) -> np.ndarray:
    """Turn XLI's stored III, aVR, aVL, aVF residuals (rows 2-5) into the leads, in integer counts.

    Same arithmetic as Philips' decoder: III = II - I - r3, aVR = -r4 - floor((I + II)/2),
    aVL = floor((I - III)/2) - r5, aVF = floor((II + III)/2) - r6.
    """
    out = counts.copy()
    lead_i, lead_ii = out[0], out[1]
    out[2] = lead_ii - lead_i - counts[2]
    out[3] = -counts[3] - (lead_i + lead_ii) // 2
    out[4] = (lead_i - out[2]) // 2 - counts[4]
    out[5] = (lead_ii + out[2]) // 2 - counts[5]
    return out


def _labels(root: Element, waveforms: Element) -> list[str]:
    labels = waveforms.get("leadlabels")
    if labels:
        count = int(waveforms.get("numberofleads") or len(labels.split()))
        return [normalize_lead_name(name) for name in labels.split()[:count]]
    signal = find_local(root, "dataacquisition", "signalcharacteristics")
    count = int(text_of(signal, "numberchannelsallocated") or 0) if signal is not None else 0
    kind = (text_of(signal, "acquisitiontype") or "") if signal is not None else ""
    if kind not in ("STD-12", "10-WIRE") or count != len(STANDARD_LEADS):
        raise ECGFormatError(f"acquisition type {kind!r} with {count} channels has no known lead labels")
    return list(STANDARD_LEADS)


def _signal(root: Element, where: str) -> tuple[dict[str, np.ndarray], float]:
    """The rhythm strip in mV by lead name, and the sampling rate in Hz."""
    signal = find_local(root, "dataacquisition", "signalcharacteristics")
    waveforms = find_local(root, "waveforms", "parsedwaveforms")
    if signal is None or waveforms is None:
        raise ECGFormatError(f"{where}: no <signalcharacteristics> or <parsedwaveforms>")
    try:
        fs = float(text_of(signal, "samplingrate") or "nan")
        resolution_uv = float(text_of(signal, "resolution") or text_of(signal, "signalresolution") or "nan")
        n_samples = int(round(int(waveforms.get("durationperchannel") or "0") * fs / 1000))
        labels = _labels(root, waveforms)
        data = base64.b64decode("".join((waveforms.text or "").split()), validate=True)
    except (ValueError, binascii.Error, OverflowError, ECGFormatError) as exc:
        raise ECGFormatError(f"{where}: bad Sierra waveform header or data: {exc}") from exc
    if not (np.isfinite(resolution_uv) and resolution_uv > 0):
        raise ECGFormatError(f"{where}: no usable signal resolution")
    check_size(len(labels), n_samples, where)
    method = waveforms.get("compressmethod") or waveforms.get("compression") or "Uncompressed"
    if method == "XLI":
        counts = xli_decode(data, len(labels), n_samples, where)
        if labels[:6] == list(STANDARD_LEADS[:6]):
            counts = rebuild_limb_leads(counts)
    elif method == "Uncompressed":
        if len(data) != 2 * len(labels) * n_samples:
            raise ECGFormatError(f"{where}: {len(data)} bytes of samples for {len(labels)} x {n_samples}")
        counts = np.frombuffer(data, dtype="<i2").reshape(len(labels), n_samples).astype(np.int64)
    else:
        raise ECGFormatError(f"{where}: waveform compression {method!r} is not supported (XLI or none)")
    if len(set(labels)) != len(labels):
        raise ECGFormatError(f"{where}: duplicate lead labels {labels}")
    return dict(zip(labels, counts * (resolution_uv / 1000.0), strict=True)), fs


def _median_beats(root: Element, leads: tuple[str, ...]) -> tuple[np.ndarray, float] | None:
    """Representative beats (mV) in the order of ``leads``, or None when absent or incomplete."""
    node = find_local(root, "waveforms", "repbeats")
    if node is None or node.get("dataencoding", "Base64") != "Base64":
        return None
    try:
        fs = float(node.get("samplespersec") or "nan")
        scale = float(node.get("resolution") or "nan") / 1000.0
        rows = {}
        for beat in (child for child in node if local_name(child.tag) == "repbeat"):
            carrier = find_local(beat, "waveform")
            text = (carrier if carrier is not None else beat).text or ""
            rows[normalize_lead_name(beat.get("leadname", ""))] = np.frombuffer(
                base64.b64decode("".join(text.split()), validate=True), dtype="<i2"
            )
    except (ValueError, binascii.Error):
        return None
    if not (np.isfinite(fs) and np.isfinite(scale)) or len({v.size for v in rows.values()}) != 1:
        return None
    kept = unfilled_length(np.stack(list(rows.values())))
    beat_leads, beats = standard_order({name: values[:kept] * scale for name, values in rows.items()})
    return (beats.astype(np.float32), fs) if beat_leads == leads and kept else None


def _acquired(node: Element | None) -> datetime | None:
    try:
        return datetime.fromisoformat(f"{node.get('date')}T{node.get('time')}") if node is not None else None
    except ValueError:
        return None


def _meta(root: Element) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    acquisition = find_local(root, "dataacquisition")
    acquired = _acquired(acquisition)
    if acquired is not None:
        meta["acquired"] = acquired.isoformat()
    patient = find_local(root, "patient", "generalpatientdata")
    if patient is not None:
        years, birth = text_of(patient, "age", "years"), text_of(patient, "age", "dateofbirth")
        if years is not None and years.isdigit():
            meta["age"] = float(years)
        elif birth is not None and acquired is not None:
            with contextlib.suppress(ValueError):
                meta["age"] = age_at(datetime.fromisoformat(birth), acquired)
        sex = parse_sex(text_of(patient, "sex"))
        if sex:
            meta["sex"] = sex
    machine = find_local(acquisition, "machine") if acquisition is not None else None
    model = (machine.text or "").strip() if machine is not None else ""
    if model:
        meta["device"] = f"Philips {model}"
    interpretation = find_local(root, "interpretations", "interpretation")
    if interpretation is not None:
        measured = find_local(interpretation, "globalmeasurements")
        if measured is None:
            measured = find_local(interpretation, "interpretationmeasurements")
        if measured is not None:
            meta["device_measurements"] = device_measurements({
                key: next((text_of(measured, tag) for tag in tags if text_of(measured, tag)), None)
                for key, tags in _MEASUREMENTS.items()
            })
        statements = [(text_of(interpretation, "severity") or "").strip(" -")]
        for statement in (c for c in interpretation if local_name(c.tag) == "statement"):
            left, right = text_of(statement, "leftstatement"), text_of(statement, "rightstatement")
            statements.append(f"{left} ({right})" if left and right else left or right or "")
        meta["statements"] = [line for line in statements if line]
    return meta


def read(path: Path, **options: Any) -> ECGRecord:
    """Read a Philips Sierra XML ECG (1.03 or 1.04).

    Returns
    -------
    ECGRecord
        Leads in standard order, mV; the calibration pulse and filler at the end are cut off and listed in
        ``meta["trimmed"]``; ``meta["median_beats"]`` holds the representative beats when the file has them.
    """
    if options:
        raise ECGFormatError(f"{path.name}: the Sierra reader takes no options (got {sorted(options)})")
    root = parse_xml(path, "Philips Sierra XML")
    if local_name(root.tag) != ROOT:
        raise ECGFormatError(f"{path.name}: root element is <{local_name(root.tag)}>, not <{ROOT}>")
    version = text_of(root, "documentinfo", "documentversion")
    if version not in VERSIONS:
        raise ECGFormatError(f"{path.name}: Sierra XML version {version!r} is not supported ({', '.join(VERSIONS)})")
    rows, fs = _signal(root, path.name)
    leads, signal = standard_order(rows)
    meta = _meta(root)
    meta["format_version"] = version
    median = _median_beats(root, leads)
    if median is not None:
        meta["median_beats"], meta["median_beats_fs"] = median
    return finish_record(signal, fs, leads, meta, where=path.name)
