"""``cardioscreen worker``: analyse queued uploads and compute saliency for the web app (job queue, PostgreSQL)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker", help="serve the web app's job queue (analyses and saliency)",
        description="Claim the web app's queued jobs (uploads to analyse, saliency maps to compute) and run them in "
                    "sandboxed processes, until SIGTERM or Ctrl-C (the jobs in hand finish first). Settings come "
                    "from the same CARDIOSCREEN_* variables as `cardioscreen serve`: CARDIOSCREEN_DATABASE_URL "
                    "(PostgreSQL) and CARDIOSCREEN_DATA_DIR (the folder the web app stores studies in, shared "
                    "with it) at least; the web app needs CARDIOSCREEN_JOB_QUEUE=1. Start any number of workers, "
                    "on any machines.")
    parser.add_argument("--concurrency", type=int,
                        help="jobs at once, one sandbox process each (default CARDIOSCREEN_ANALYSIS_WORKERS, 2)")
    parser.add_argument("--data-dir", type=Path, help="data folder shared with the web app (studies)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cardioscreen.web.jobs.worker import run_worker
    from cardioscreen.web.settings import WebSettings

    if args.data_dir is not None:
        os.environ["CARDIOSCREEN_DATA_DIR"] = str(args.data_dir.resolve())
    run_worker(WebSettings(), concurrency=args.concurrency)
    return 0
