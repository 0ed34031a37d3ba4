"""``cardioscreen plot``: draw an ECG file as a clinical printout on ECG paper (PNG, PDF or SVG)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.report.plot import plot_ecg
from cardioscreen.signal.clean import ecg_clean
from cardioscreen.signal.peaks import ecg_peaks

_IMAGE_SUFFIXES = (".png", ".pdf", ".svg")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plot",
        help="draw an ECG file on ECG paper (12-lead layout or one strip per lead)",
        description="Draw a record at 25 mm/s and 10 mm/mV: a 3 x 4 grid of 2.5 s segments plus a lead II rhythm "
        "strip for 12-lead records, one strip per lead otherwise, with R-peak markers.",
    )
    parser.add_argument("file", type=Path, help="ECG file (any supported format)")
    parser.add_argument("--out", type=Path, required=True, help="image to write (.png, .pdf or .svg)")
    parser.add_argument("--dpi", type=int, default=150, help="resolution of a PNG (dots per inch, default 150)")
    parser.add_argument("--start", type=float, default=0.0, help="first second of the record shown (default 0)")
    parser.add_argument("--raw", action="store_true", help="draw the samples as stored, without the 0.5-40 Hz filter")
    parser.add_argument("--fs", type=float, default=None, help="sampling rate (Hz) for formats that do not store it")
    parser.set_defaults(func=run)


def _title(record_id: str, meta: dict[str, Any], duration_s: float, fmt: str) -> str:
    parts = [record_id, f"{duration_s:.1f} s", fmt]
    if meta.get("age") is not None:
        parts.append(f"age {float(meta['age']):g}")
    if meta.get("sex"):
        parts.append(f"sex {meta['sex']}")
    return "   ".join(str(p) for p in parts)


def run(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() not in _IMAGE_SUFFIXES:
        raise CardioScreenError(f"--out must end in one of {', '.join(_IMAGE_SUFFIXES)}, got {args.out.name}")
    if not 20 <= args.dpi <= 1200:
        raise CardioScreenError(f"--dpi must be between 20 and 1200, got {args.dpi}")
    options = {} if args.fs is None else {"fs": args.fs}
    record = read_ecg(args.file, **options)
    peaks, _ = ecg_peaks(record.signal, record.fs)
    shown = record if args.raw else record.with_signal(ecg_clean(record.signal, record.fs))
    title = _title(str(record.meta.get("record_id", args.file.stem)), record.meta, record.duration_s,
                   str(record.meta.get("format", "")))
    figure = plot_ecg(shown, r_peaks=peaks, start_s=args.start, title=title)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out, dpi=args.dpi)
    print(f"wrote {args.out} ({record.n_leads} leads, {len(peaks)} R-peaks)")
    return 0
