"""``cardioscreen batch-report RESULTS --out DIR``: the HTML/CSV summary of a ``cardioscreen batch`` results folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cardioscreen.archive.report import write_report


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "batch-report",
        help="summarise a batch results folder: counts per finding, prevalence by age/sex, lists, plots",
        description="Write index.html, CSV tables and plots summarising a 'cardioscreen batch' results folder: "
        "counts per finding, prevalence by age band and sex, and the records with atrial fibrillation or flutter, "
        "a long QTc or a STEMI pattern, refused records by reason and records without a result.",
    )
    parser.add_argument("results", type=Path, metavar="RESULTS", help="results folder of 'cardioscreen batch'")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the summary")
    parser.add_argument("--model-version", metavar="VERSION", help="model version to summarise (when several)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    summary = write_report(args.results, args.out, args.model_version)
    print(f"{summary.n_records} records ({summary.n_refused} refused, {summary.n_failed} without a result): "
          f"{args.out / 'index.html'}", file=sys.stderr)
    return 0
