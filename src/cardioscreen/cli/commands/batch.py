"""``cardioscreen batch SRC... --out RESULTS``: a whole archive on a Dask cluster, resumable, to Parquet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cardioscreen.archive.engine import ENGINES, LOCAL, ClusterSpec
from cardioscreen.archive.runner import BatchConfig, run_batch
from cardioscreen.pipeline import AnalyzerConfig


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch",
        help="analyse a whole archive on a Dask cluster into a resumable Parquet results folder",
        description="Analyse every ECG record under SRC (searched recursively) with the same Analyzer as "
        "'analyze', on local worker processes or a Dask scheduler's workers, appending one row per record to "
        "RESULTS (Parquet). A rerun skips records already in RESULTS with the same content and model version. "
        "Research use only.",
    )
    parser.add_argument("sources", nargs="+", type=Path, metavar="SRC", help="ECG files or folders")
    parser.add_argument("--out", type=Path, required=True, metavar="RESULTS", help="results folder (Parquet)")
    parser.add_argument("--cluster", default=LOCAL, metavar="local|ADDRESS",
                        help="'local' (worker processes here, the default) or a Dask scheduler, tcp://HOST:8786")
    parser.add_argument("--workers", type=int, default=2, help="local worker processes, one core each (default 2)")
    parser.add_argument("--engine", choices=sorted(ENGINES), default="dask", help="distributed engine")
    parser.add_argument("--glob", metavar="PATTERN", help="only records whose path in SRC matches, e.g. '*.xml'")
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N records found")
    parser.add_argument("--model", type=Path, metavar="BUNDLE",
                        help="model bundle folder, the same path on every worker (default: the shipped model)")
    parser.add_argument("--lang", choices=("en", "ru"), default="en", help="language of names and texts")
    parser.add_argument("--powerline", type=float, choices=(50.0, 60.0), default=50.0, help="mains frequency, Hz")
    parser.add_argument("--chunk", type=int, default=16, help="records per task (default 16)")
    parser.add_argument("--part-rows", type=int, default=512,
                        help="write a Parquet part every N rows (default 512; a crash loses at most these)")
    parser.add_argument("--part-seconds", type=float, default=30.0,
                        help="... or this many seconds after the last part (default 30)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = BatchConfig(
        sources=tuple(args.sources),
        out=args.out,
        cluster=ClusterSpec(address=args.cluster, workers=args.workers),
        engine=args.engine,
        glob=args.glob,
        limit=args.limit,
        model=args.model,
        analyzer=AnalyzerConfig(lang=args.lang, powerline_hz=args.powerline),
        chunk=args.chunk,
        part_rows=args.part_rows,
        part_seconds=args.part_seconds,
        progress=not args.quiet,
    )
    summary = run_batch(config)
    print(f"{summary.found} records found ({summary.skipped_files} files skipped: not ECG records), "
          f"{summary.already_done} already in {args.out}, {summary.duplicates} duplicates, "
          f"{summary.analysed} analysed, {summary.failed} failed; model {summary.model_version}", file=sys.stderr)
    if summary.analysed + summary.failed:
        print(f"start-up {summary.startup_s:.1f} s, {summary.rate:.2f} records/s", file=sys.stderr)
    return 1 if summary.failed else 0
