"""``cardioscreen rhythm FILE...``: the rhythm of ECG files (any lead set, any length), its episodes and ectopy."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cardioscreen.cli.arguments import read_record
from cardioscreen.errors import CardioScreenError
from cardioscreen.rhythm import RhythmResult, ecg_rhythm
from cardioscreen.signal.clean import ecg_clean

EPISODES_SHOWN = 20
"""At most this many episodes are listed per record in the table (all of them in JSON)."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rhythm",
        help="rhythm of ECG files: sinus, AF, flutter, SVT, paced...; episodes and ectopic beats",
        description="Name each record's rhythm from RR regularity, P waves, pacing spikes and QRS shape, together "
        "with a classifier trained on PTB-XL; long records are read in 10 s windows merged into episodes. "
        "Any lead set (1 to 12 leads) and any length.",
    )
    parser.add_argument("files", type=Path, nargs="+", metavar="FILE", help="ECG files (any supported format)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file and line")
    parser.add_argument("--lang", choices=("en", "ru"), default="en", help="language of names and evidence")
    parser.add_argument("--fs", type=float, default=None, help="sampling rate (Hz) for formats that do not store it")
    parser.add_argument("--powerline", type=float, choices=(50.0, 60.0), default=50.0, help="mains frequency, Hz")
    parser.set_defaults(func=run)


def analyse(path: Path, args: argparse.Namespace) -> RhythmResult:
    """The rhythm of one file (read, cleaned, analysed with the raw signal for pacing spikes)."""
    record = read_record(path, args.fs)
    raw = record.signal.astype("float64")
    clean = ecg_clean(raw, record.fs, powerline_hz=args.powerline)
    return ecg_rhythm(clean, record.fs, record.leads, raw=raw, lang=args.lang)


def format_table(name: str, result: RhythmResult) -> str:
    """Plain-text lines of one record: rhythm, rate, ectopy, evidence and the episodes of a long record."""
    rate = "-" if result.heart_rate_bpm is None else f"{result.heart_rate_bpm:.0f}/min"
    e = result.ectopy
    lines = [f"{name}: {result.code} {result.name}, {rate}, PVC {e.pvc}, PAC {e.pac}"
             + (f", {e.pattern}" if e.pattern else "") + f" [{result.source}]",
             f"  {result.evidence}"]
    if len(result.episodes) > 1:
        for ep in result.episodes[:EPISODES_SHOWN]:
            lines.append(f"  {ep.start_s:8.1f}-{ep.end_s:8.1f} s  {ep.code}")
        if len(result.episodes) > EPISODES_SHOWN:
            lines.append(f"  ... {len(result.episodes) - EPISODES_SHOWN} more episodes (see --json)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    failures = 0
    for path in args.files:
        try:
            result = analyse(path, args)
        except CardioScreenError as exc:
            failures += 1
            print(f"{path}: error: {exc}", file=sys.stderr, flush=True)
            continue
        if args.json:
            print(json.dumps({"record": path.stem, "rhythm": result.to_dict()}, ensure_ascii=False), flush=True)
        else:
            print(format_table(path.name, result), flush=True)
    return 1 if failures else 0
