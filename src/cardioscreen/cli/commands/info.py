"""``cardioscreen info``: what an ECG file holds — format, rate, leads, duration, metadata and signal quality."""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.io import FORMAT_MODULES, read_ecg
from cardioscreen.record import ECGRecord
from cardioscreen.signal.quality import ecg_quality

_PERSONAL_KEY = re.compile(r"(^|_)(id|ids|name|names|birth|birthdate|dob|mrn|patient|ssn|address)(_|$)", re.I)
"""Metadata keys never shown (identifiers, names, birth dates), should a reader ever put them in ``meta``."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "info",
        help="describe an ECG file: format, rate, leads, duration, metadata, quality",
        description="Read an ECG file of any supported format and describe it. Names, IDs and birth dates "
        "are never shown.",
    )
    parser.add_argument("file", type=Path, help="ECG file (for WFDB: the .hea, the .dat/.mat or the record name)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--fs", type=float, default=None, help="sampling rate (Hz) for CSV/NumPy files without one")
    parser.add_argument("--format", dest="fmt", choices=list(FORMAT_MODULES), default=None,
                        help="read as this format instead of detecting it from the content")
    parser.set_defaults(func=run)


def describe(record: ECGRecord, path: Path) -> dict[str, Any]:
    """JSON-ready description of ``record`` read from ``path``, with its quality verdict."""
    quality = ecg_quality(record.signal, record.fs, record.leads)
    return {
        "file": path.name,
        "format": record.meta.get("format"),
        "fs": _number(record.fs),
        "leads": list(record.leads),
        "n_leads": record.n_leads,
        "samples": record.n_samples,
        "duration_s": round(record.duration_s, 3),
        "metadata": public_metadata(record.meta),
        "quality": _jsonable(quality.to_dict()),
    }


def public_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """``meta`` without personal keys or ``format``; arrays are summarised by their shape."""
    return {key: _jsonable(value) for key, value in meta.items()
            if key != "format" and not _PERSONAL_KEY.search(key)}


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return {"array_shape": list(value.shape)}
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _print_text(info: dict[str, Any]) -> None:
    quality = info["quality"]
    rate = f" (heart rate {quality['heart_rate_bpm']:.0f} bpm)" if quality.get("heart_rate_bpm") else ""
    lines = {
        "file": info["file"],
        "format": info["format"],
        "rate": f"{info['fs']} Hz",
        "leads": f"{info['n_leads']}: {' '.join(info['leads'])}",
        "duration": f"{info['duration_s']:.2f} s ({info['samples']} samples)",
        **{key: value if isinstance(value, str) else json.dumps(value) for key, value in info["metadata"].items()},
        "quality": f"{quality['verdict']}{rate}",
    }
    width = max(map(len, lines))
    for key, text in lines.items():
        print(f"{key:<{width}s}  {text}")
    for reason in quality["reasons"]:
        print(f"{'':<{width}s}  - {reason}")


def run(args: argparse.Namespace) -> int:
    options = {} if args.fs is None else {"fs": args.fs}
    record = read_ecg(args.file, fmt=args.fmt, **options)
    info = describe(record, args.file)
    if args.json:
        print(json.dumps(info))
    else:
        _print_text(info)
    return 0
