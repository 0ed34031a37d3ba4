"""``cardioscreen beats``: cut an ECG file into resampled heartbeats and save them as a NumPy array."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.leads import INDEPENDENT_LEADS
from cardioscreen.signal.beats import beat_modes, ecg_beats
from cardioscreen.signal.clean import ecg_clean
from cardioscreen.signal.peaks import ecg_peaks


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "beats",
        help="segment an ECG file into heartbeats and save them as .npy (n_beats, leads, samples)",
        description="Clean the record (0.5-40 Hz), find R-peaks with all leads and cut one beat per R-peak, "
        "resampled to --samples. A 12-lead record (or an 8-lead one, limb leads derived) is saved in standard "
        "lead order; other records keep all their leads in file order.",
    )
    parser.add_argument("file", type=Path, help="ECG file (any supported format)")
    parser.add_argument("--out", type=Path, required=True, help="output .npy file")
    parser.add_argument("--samples", type=int, default=500, help="samples per beat (default 500)")
    parser.add_argument("--mode", choices=beat_modes(), default="midpoint",
                        help="midpoint: RR-midpoint boundaries (default); window: fixed window around R")
    parser.add_argument("--powerline", type=float, choices=(50.0, 60.0), default=50.0, help="mains frequency, Hz")
    parser.add_argument("--fs", type=float, default=None, help="sampling rate (Hz) for formats that do not store it")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.out.suffix.lower() != ".npy":
        raise CardioScreenError(f"--out must end in .npy, got {args.out.name}")
    record = read_ecg(args.file, **({} if args.fs is None else {"fs": args.fs}))
    if set(INDEPENDENT_LEADS).issubset(record.leads):
        record = record.to_standard12()
    clean = ecg_clean(record.signal, record.fs, powerline_hz=args.powerline)
    peaks, _ = ecg_peaks(clean, record.fs)
    beats, _ = ecg_beats(clean, record.fs, peaks, n_samples=args.samples, mode=args.mode)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.out, beats)
    print(f"wrote {args.out}: {beats.shape[0]} beats x {beats.shape[1]} leads ({', '.join(record.leads)}) "
          f"x {beats.shape[2]} samples")
    return 0
