"""``cardioscreen intervals``: heart rate, PR, QRS, QT/QTc and frontal axes of ECG files, with flags."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cardioscreen.cli.arguments import read_record
from cardioscreen.record import ECGRecord
from cardioscreen.signal.intervals import Intervals
from cardioscreen.signal.measure import measure_record

_COLUMNS = (
    ("hr_bpm", "HR bpm"), ("p_ms", "P ms"), ("pr_ms", "PR ms"), ("qrs_ms", "QRS ms"), ("qt_ms", "QT ms"),
    ("qtc_bazett_ms", "QTcB ms"), ("qtc_fridericia_ms", "QTcF ms"), ("qrs_axis_deg", "axis deg"),
    ("n_beats", "beats"),
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "intervals",
        help="measure HR, PR, QRS, QT/QTc and axes of ECG files",
        description="Delineate P, QRS and T on all leads and print each record's intervals (medians over its "
        "normal beats). A value that cannot be measured is shown as '-' (null in JSON) with the reason.",
    )
    parser.add_argument("files", type=Path, nargs="+", metavar="FILE", help="ECG files (any supported format)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file and line")
    parser.add_argument("--fs", type=float, default=None, help="sampling rate (Hz) for formats that do not store it")
    parser.add_argument("--powerline", type=float, choices=(50.0, 60.0), default=50.0,
                        help="mains frequency removed before the quality check (Hz; as analyze's --powerline)")
    parser.set_defaults(func=run)


def _measure(record: ECGRecord, powerline_hz: float) -> Intervals:
    """The record's intervals, measured as ``analyze`` measures them (one function for every output)."""
    return measure_record(record, powerline_hz=powerline_hz).intervals


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if isinstance(value, float) else str(value)


def run(args: argparse.Namespace) -> int:
    results = [(path, _measure(read_record(path, args.fs), args.powerline)) for path in args.files]
    if args.json:
        for path, iv in results:
            print(json.dumps({"file": str(path), **iv.to_dict()}))
        return 0
    width = max(len(path.name) for path, _ in results)
    print(f"{'file':<{width}}  " + "  ".join(f"{title:>8}" for _, title in _COLUMNS) + "  flags")
    for path, iv in results:
        data = iv.to_dict()
        cells = "  ".join(f"{_cell(data[key]):>8}" for key, _ in _COLUMNS)
        print(f"{path.name:<{width}}  {cells}  {', '.join(iv.flags) or '-'}")
    for path, iv in results:
        for key, reason in iv.reasons.items():
            print(f"{path.name}: {key} not measured: {reason}")
    return 0
