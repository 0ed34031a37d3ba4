"""What the clinical/vendor readers (DICOM, SCP-ECG, Sierra, MUSE) share: safe XML, metadata, the last step.

Metadata keys every one of them fills where the file has the value (never names, IDs or birth dates):

``age`` (years), ``sex`` (``"M"``/``"F"``), ``acquired`` (ISO 8601 local time), ``device`` (cart model),
``statements`` (list of str: the cart's or the overreader's own interpretation, kept apart from ours),
``device_measurements`` (dict of float, keys from :data:`MEASUREMENT_KEYS`), ``median_beats``
(``(leads, samples)`` float32 mV, same lead order as the record) with ``median_beats_fs`` (Hz), and
``trimmed`` (the spans cut off by :mod:`cardioscreen.io.quirks`).
"""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.quirks import trim_strip
from cardioscreen.leads import STANDARD_LEADS, derive_limb_leads
from cardioscreen.record import ECGRecord

MEASUREMENT_KEYS: tuple[str, ...] = (
    "heart_rate_bpm", "rr_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "p_axis_deg", "qrs_axis_deg", "t_axis_deg",
)
"""Names of the cart's global measurements in ``meta["device_measurements"]`` (ms, bpm, degrees)."""

_MAX_XML_BYTES = 64 * 1024 * 1024
_ROOT_RE = re.compile(r"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"),
)


def xml_root_name(head: bytes) -> str | None:
    """Local name of the root element of an XML document from its first bytes, or None if not XML.

    Handles UTF-8 and UTF-16 (with or without BOM); skips the declaration, comments and the DOCTYPE.
    """
    encoding = next((enc for bom, enc in _BOMS if head.startswith(bom)), None)
    if encoding is None:
        encoding = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be" if head[:1] == b"\x00" else "latin-1"
    text = head.decode(encoding, errors="ignore").lstrip("\ufeff \t\r\n")
    if not text.startswith("<"):
        return None
    text = re.sub(r"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(\[.*?\])?\s*>", "", text, flags=re.DOTALL).lstrip()
    match = _ROOT_RE.match(text)
    return match.group(2) if match else None


def standard_order(rows: dict[str, np.ndarray]) -> tuple[tuple[str, ...], np.ndarray]:
    """Stack named leads in standard order, deriving III/aVR/aVL/aVF from I and II when they are missing.

    A ``-aVR`` lead (Cabrera display) becomes ``aVR`` with its sign flipped.

    Parameters
    ----------
    rows : dict
        Normalised lead name -> samples, all the same shape ``(samples,)``.

    Returns
    -------
    leads : tuple of str
        The 12 standard leads present (in :data:`~cardioscreen.leads.STANDARD_LEADS` order), then any others.
    signal : np.ndarray
        Shape ``(leads, samples)``.
    """
    rows = dict(rows)
    inverted = rows.pop("-aVR", None)
    if inverted is not None:
        rows.setdefault("aVR", -inverted)
    if "I" in rows and "II" in rows:
        for name, values in derive_limb_leads(rows["I"], rows["II"]).items():
            rows.setdefault(name, values)
    leads = tuple(name for name in STANDARD_LEADS if name in rows) + tuple(n for n in rows if n not in STANDARD_LEADS)
    return leads, np.stack([rows[name] for name in leads])


def parse_xml(path: Path, what: str) -> Element:
    """The root element of an XML file, parsed with defusedxml.

    Entity declarations (the "billion laughs" expansion bomb) and external entities or DTDs are refused
    with :class:`ECGFormatError`, like any malformed or oversized file.
    """
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        if path.stat().st_size > _MAX_XML_BYTES:
            raise ECGFormatError(f"{path.name}: {what} file is over {_MAX_XML_BYTES >> 20} MB")
        return fromstring(path.read_bytes(), forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ECGFormatError(f"{path.name}: {what} refused: the XML declares entities ({type(exc).__name__})") from exc
    except (ParseError, ValueError, LookupError, OSError) as exc:
        raise ECGFormatError(f"{path.name}: not a well-formed {what} file: {exc}") from exc


def local_name(tag: str) -> str:
    """An element's tag without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def find_local(root: Element, *names: str) -> Element | None:
    """The first element whose path of local names below ``root`` is ``names`` (namespaces ignored)."""
    node: Element | None = root
    for name in names:
        node = next((child for child in node if local_name(child.tag) == name), None) if node is not None else None
    return node


def text_of(root: Element, *names: str) -> str | None:
    """Stripped text of :func:`find_local` ``(root, *names)``; None when missing or empty."""
    node = find_local(root, *names)
    text = (node.text or "").strip() if node is not None else ""
    return text or None


def age_at(birth: date, acquired: date) -> float | None:
    """Completed years between a birth date and the acquisition (the birth date itself is never kept)."""
    years = acquired.year - birth.year - ((acquired.month, acquired.day) < (birth.month, birth.day))
    return float(years) if 0 <= years <= 130 else None


def device_measurements(values: dict[str, Any], undefined: frozenset[float] = frozenset()) -> dict[str, float]:
    """Numeric cart measurements under the names of :data:`MEASUREMENT_KEYS`.

    Parameters
    ----------
    values : dict
        Canonical name -> value as the file gave it (str or number, or None when absent).
    undefined : frozenset of float
        Sentinels the format uses for "not measured" (SCP-ECG: 29999...).

    Returns
    -------
    dict
        Only the names whose value parses to a finite number that is not a sentinel.
    """
    unknown = set(values) - set(MEASUREMENT_KEYS)
    if unknown:
        raise ValueError(f"unknown measurement names {sorted(unknown)}; known: {MEASUREMENT_KEYS}")
    out: dict[str, float] = {}
    for name, value in values.items():
        try:
            number = float(str(value).strip())
        except ValueError:
            continue
        if math.isfinite(number) and number not in undefined:
            out[name] = number
    return out


def finish_record(
    signal_mv: np.ndarray,
    fs: float,
    leads: tuple[str, ...],
    meta: dict[str, Any],
    *,
    where: str,
    padding_mv: float | None = None,
) -> ECGRecord:
    """The reader's last step: cut end artifacts (:func:`~cardioscreen.io.quirks.trim_strip`), build the record.

    Parameters
    ----------
    signal_mv : np.ndarray
        Shape ``(leads, samples)``, mV, the full strip as stored.
    fs : float
        Sampling rate in Hz.
    leads : tuple of str
        Lead names in row order.
    meta : dict
        Metadata; ``trimmed`` is added.
    where : str
        File name, for error messages.
    padding_mv : float, optional
        The file's declared padding value in mV.
    """
    if signal_mv.size and not np.all(np.isfinite(signal_mv)):
        raise ECGFormatError(f"{where}: the decoded samples hold NaN or infinite values")
    trimmed, spans = trim_strip(signal_mv, fs, padding=padding_mv)
    meta["trimmed"] = spans
    try:
        return ECGRecord(signal=np.ascontiguousarray(trimmed, dtype=np.float32), fs=fs, leads=leads, meta=meta)
    except ECGFormatError as exc:
        raise ECGFormatError(f"{where}: {exc}") from exc
