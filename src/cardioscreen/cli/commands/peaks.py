"""``cardioscreen peaks``: R-peaks of an ECG file, found with all of its leads."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from cardioscreen.io import read_ecg
from cardioscreen.signal.peaks import ecg_peaks


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "peaks",
        help="find the R-peaks of an ECG file (all leads fused)",
        description="Detect R-peaks using every lead of the file. Sample indices are at the file's own rate.",
    )
    parser.add_argument("file", type=Path, help="ECG file (any supported format)")
    parser.add_argument("--json", action="store_true", help='print {"fs": ..., "r_peaks": [...]} as JSON')
    parser.add_argument("--fs", type=float, default=None, help="sampling rate (Hz) for formats that do not store it")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    record = read_ecg(args.file, **({} if args.fs is None else {"fs": args.fs}))
    peaks, info = ecg_peaks(record.signal, record.fs)
    fs: float | int = int(record.fs) if float(record.fs).is_integer() else record.fs
    if args.json:
        print(json.dumps({"fs": fs, "r_peaks": peaks.tolist()}))
        return 0
    used = ", ".join(record.leads[i] for i in info["leads_used"]) or "none"
    print(f"{args.file.name}: {record.n_leads} leads at {fs} Hz, {record.duration_s:.1f} s; leads used: {used}")
    print(f"{len(peaks)} R-peaks", end="")
    if len(peaks) >= 2:
        rr = np.diff(peaks) / record.fs
        print(f"; heart rate {60 / rr.mean():.0f} bpm (RR {1000 * rr.min():.0f}-{1000 * rr.max():.0f} ms)")
    else:
        print()
    print(f"{'#':>5s} {'sample':>9s} {'time s':>9s}")
    for number, sample in enumerate(peaks, start=1):
        print(f"{number:5d} {int(sample):9d} {sample / record.fs:9.3f}")
    return 0
