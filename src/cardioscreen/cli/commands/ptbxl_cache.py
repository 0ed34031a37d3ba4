"""``cardioscreen ptbxl-cache``: build the memory-mapped signal store of a PTB-XL folder once."""

from __future__ import annotations

import argparse
from pathlib import Path

from cardioscreen.datasets.cache import default_cache_dir
from cardioscreen.datasets.ptbxl import PTBXL


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ptbxl-cache",
        help="cache the signals of a PTB-XL folder as a memory-mapped array",
        description="Read every record of a PTB-XL folder (official layout) once into a memory-mapped .npy store "
        "so that training epochs do not re-parse WFDB files.",
    )
    parser.add_argument("--data", type=Path, required=True, help="PTB-XL folder (ptbxl_database.csv, records*/)")
    parser.add_argument("--fs", type=int, choices=(100, 500), default=500, help="record rate to read (Hz)")
    parser.add_argument("--recipe", default=None, help="also apply this normalisation recipe (e.g. z100)")
    parser.add_argument("--cache", type=Path, default=None, help="store folder (default: see README)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dataset = PTBXL.load(args.data)
    signals = dataset.signals(args.fs, recipe=args.recipe, cache_dir=args.cache)
    where = args.cache or default_cache_dir(args.data)
    print(f"{len(dataset)} records, array {tuple(signals.shape)} {signals.dtype}, in {where}")
    return 0
