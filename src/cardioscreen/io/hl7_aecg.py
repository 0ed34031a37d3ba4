"""HL7 aECG XML (``AnnotatedECG`` in the ``urn:hl7-org:v3`` namespace), the FDA's annotated-ECG format.

The rhythm series' sequence set gives the leads: each ``SLIST_PQ`` sequence is ``origin + scale * digits``
in the units of its ``scale``/``origin`` (converted to mV), and the time sequence's ``increment`` gives the
sampling rate. Leads come out in standard order; a ``REPRESENTATIVE_BEAT`` derived series, when present, is
kept as ``meta["median_beats"]`` (same lead order) with ``meta["median_beats_fs"]``, and the metadata keys are
those of :mod:`cardioscreen.io.clinical`. XML is parsed only with defusedxml (through
:func:`~cardioscreen.io.clinical.parse_xml`): documents that declare entities (entity-expansion bombs,
external entities) are refused.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.clinical import device_measurements, finish_record, local_name, parse_xml, standard_order
from cardioscreen.io.common import check_size, library_errors, millivolts_per_unit, parse_age, parse_sex
from cardioscreen.leads import normalize_lead_name
from cardioscreen.record import ECGRecord

logger = logging.getLogger(__name__)

_ROOT = re.compile(rb"<(\w+:)?AnnotatedECG[\s>]")
_SECONDS_PER_UNIT = {"s": 1.0, "ms": 1e-3, "us": 1e-6}
_AGE_CODE = "21612-7"
"""LOINC code of 'reported age'."""
_STATEMENT_CODES = ("MDC_ECG_RHY", "MDC_ECG_INTERPRETATION")
_MEASUREMENT_CODES = {
    "MDC_ECG_HEART_RATE": "heart_rate_bpm", "MDC_ECG_TIME_PD_RR": "rr_ms", "MDC_ECG_TIME_PD_PR": "pr_ms",
    "MDC_ECG_TIME_PD_QRS": "qrs_ms", "MDC_ECG_TIME_PD_QT": "qt_ms", "MDC_ECG_TIME_PD_QTc": "qtc_ms",
    "MDC_ECG_ANGLE_P_FRONT": "p_axis_deg", "MDC_ECG_ANGLE_QRS_FRONT": "qrs_axis_deg",
    "MDC_ECG_ANGLE_T_FRONT": "t_axis_deg",
}
"""MDC codes of the device's global measurements -> names in ``meta["device_measurements"]``."""


def sniff(path: Path, head: bytes) -> bool:
    """True when the file's first bytes hold an ``AnnotatedECG`` root element."""
    return _ROOT.search(head) is not None


def read(path: Path, **options: Any) -> ECGRecord:
    """Read an HL7 aECG file.

    Parameters
    ----------
    path : Path
        The XML file.
    **options
        None are used; passing any raises :class:`ECGFormatError`.

    Returns
    -------
    ECGRecord
        The rhythm leads in mV, standard order. ``meta`` may hold ``age``, ``sex``, ``device``, ``acquired``
        (ISO time), ``statements`` (the device's rhythm/interpretation statements), ``device_measurements``
        (ms, degrees), ``median_beats`` (``(leads, samples)`` mV) with ``median_beats_fs`` (Hz), ``trimmed``.
    """
    if options:
        raise ECGFormatError(f"HL7 aECG files take no options; got {sorted(options)}")
    with library_errors(path, "HL7 aECG XML"):
        root = parse_xml(path, "HL7 aECG")
    if local_name(root.tag) != "AnnotatedECG":
        raise ECGFormatError(f"{path.name}: root element is {local_name(root.tag)!r}, not AnnotatedECG")
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    series = list(root.iter(f"{ns}series"))
    rhythm = next((s for s in series if _code(s, ns) == "RHYTHM"), series[0] if series else None)
    if rhythm is None:
        raise ECGFormatError(f"{path.name}: aECG document has no waveform series")
    with library_errors(path, "aECG waveforms"):
        fs, leads, signal = _sequence_set(rhythm, ns, path.name)
        meta = _meta(root, rhythm, ns)
        leads, signal = standard_order(dict(zip(leads, signal, strict=True)))
        beats = next((d for d in rhythm.iter(f"{ns}derivedSeries") if _code(d, ns) == "REPRESENTATIVE_BEAT"), None)
        if beats is not None:
            _add_median_beats(meta, _sequence_set(beats, ns, path.name), leads)
    return finish_record(signal, fs, leads, meta, where=path.name)


def _add_median_beats(meta: dict[str, Any], beats: tuple[float, tuple[str, ...], np.ndarray],
                      leads: tuple[str, ...]) -> None:
    """Put the representative beats in ``meta`` in the record's lead order (when they cover its leads)."""
    beat_fs, beat_leads, beat_signal = beats
    rows = dict(zip(beat_leads, beat_signal, strict=True))
    if set(leads) - set(rows):
        logger.info("representative beats lack leads %s; not kept", sorted(set(leads) - set(rows)))
        return
    meta["median_beats"] = np.stack([rows[name] for name in leads])
    meta["median_beats_fs"] = beat_fs


def _code(element: Element, ns: str) -> str:
    code = element.find(f"{ns}code")
    return "" if code is None else code.get("code", "")


def _quantity_mv(element: Element | None, what: str, default: float) -> float:
    """A physical quantity element (``<scale value="2.5" unit="uV"/>``) in mV."""
    if element is None:
        return default
    factor = millivolts_per_unit(element.get("unit", "mV"))
    if factor is None:
        raise ECGFormatError(f"{what} unit {element.get('unit')!r} is not a voltage")
    return float(element.get("value", "")) * factor


def _sequence_set(series: Element, ns: str, where: str) -> tuple[float, tuple[str, ...], np.ndarray]:
    """Rate (Hz), lead names and ``(leads, samples)`` mV signal of a series' first sequence set with leads."""
    for sequence_set in series.findall(f"{ns}component/{ns}sequenceSet"):
        fs: float | None = None
        names: list[str] = []
        rows: list[np.ndarray] = []
        for sequence in sequence_set.findall(f"{ns}component/{ns}sequence"):
            code, value = _code(sequence, ns), sequence.find(f"{ns}value")
            if value is None:
                continue
            increment = value.find(f"{ns}increment")
            digits = value.find(f"{ns}digits")
            if code.startswith("TIME_") and increment is not None:
                unit = increment.get("unit", "s")
                if unit not in _SECONDS_PER_UNIT:
                    raise ECGFormatError(f"{where}: time increment unit {unit!r} is not in {list(_SECONDS_PER_UNIT)}")
                fs = 1.0 / (float(increment.get("value", "")) * _SECONDS_PER_UNIT[unit])
            elif digits is not None:
                name = normalize_lead_name(code.removeprefix("MDC_ECG_LEAD_"))
                tokens = (digits.text or "").split()
                check_size(1, len(tokens), f"{where}: lead {name}")
                origin = _quantity_mv(value.find(f"{ns}origin"), f"lead {name} origin", 0.0)
                scale = _quantity_mv(value.find(f"{ns}scale"), f"lead {name} scale", 1.0)
                rows.append(origin + scale * np.array(tokens, dtype=np.float64))
                names.append(name)
        if not rows:
            continue
        if fs is None:
            raise ECGFormatError(f"{where}: sequence set has leads but no time increment (sampling rate)")
        if len(set(names)) < len(names):
            raise ECGFormatError(f"{where}: a lead appears twice in the sequence set ({names})")
        lengths = sorted({row.size for row in rows})
        if len(lengths) > 1:
            raise ECGFormatError(f"{where}: leads have different lengths {lengths}")
        return fs, tuple(names), np.stack(rows).astype(np.float32)
    raise ECGFormatError(f"{where}: waveform series holds no lead sequences")


def _hl7_time(value: str | None) -> str | None:
    """ISO 8601 text for an HL7 TS value (``20021122091000.000`` -> ``2002-11-22T09:10:00``)."""
    match = re.match(r"(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?", value or "")
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second).isoformat()
    except ValueError:
        return None


def _meta(root: Element, rhythm: Element, ns: str) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for observation in root.iter(f"{ns}relatedObservation"):
        value = observation.find(f"{ns}value")
        is_age = _code(observation, ns) == _AGE_CODE and value is not None and value.get("unit", "a") == "a"
        if is_age and value is not None and (age := parse_age(value.get("value"))) is not None:
            meta["age"] = age
    gender = next(root.iter(f"{ns}administrativeGenderCode"), None)
    if gender is not None and (sex := parse_sex(gender.get("code", ""))) is not None:
        meta["sex"] = sex
    device = next(rhythm.iter(f"{ns}seriesAuthor"), None)
    if device is not None:
        parts = [device.findtext(f".//{ns}manufacturerOrganization/{ns}name"),
                 device.findtext(f".//{ns}manufacturerModelName"), device.findtext(f".//{ns}softwareName")]
        if text := " ".join(part.strip() for part in parts if part and part.strip()):
            meta["device"] = text
    low = rhythm.find(f"{ns}effectiveTime/{ns}low")
    if low is not None and (acquired := _hl7_time(low.get("value"))):
        meta["acquired"] = acquired
    statements = [
        value.get("displayName", "").strip() or (value.text or "").strip()
        for annotation in rhythm.iter(f"{ns}annotation")
        if _code(annotation, ns).startswith(_STATEMENT_CODES) and (value := annotation.find(f"{ns}value")) is not None
    ]
    if statements := list(dict.fromkeys(text for text in statements if text)):
        meta["statements"] = statements
    measured: dict[str, Any] = {}
    for annotation in rhythm.iter(f"{ns}annotation"):
        name = _MEASUREMENT_CODES.get(_code(annotation, ns))
        value = annotation.find(f"{ns}value")
        if name is not None and value is not None:
            measured.setdefault(name, value.get("value"))
    if numbers := device_measurements(measured):
        meta["device_measurements"] = numbers
    return meta
