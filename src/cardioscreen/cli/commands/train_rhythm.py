"""``cardioscreen train-rhythm``: fit the rhythm classifier on PTB-XL's rhythm statements (folds 1-8, fold 9
scored)."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "data" / "rhythm" / "model.npz"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-rhythm",
        help="train the rhythm classifier on PTB-XL rhythm statements",
        description="Measure the rhythm features of every PTB-XL record with a rhythm statement (12 leads, lead II "
                    "alone, leads II and V1), fit a multinomial logistic regression on folds 1-8, score it on "
                    "fold 9 (validation) and save it with those figures.",
    )
    parser.add_argument("--data", type=Path, required=True, metavar="DIR",
                        help="a PTB-XL folder (ptbxl_database.csv, records500/), e.g. ../shared/data/ptbxl")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, metavar="FILE",
                        help=f"output file (default {DEFAULT_OUT})")
    parser.add_argument("--C", type=float, default=1.0, help="inverse L2 regularisation strength")
    parser.add_argument("--balance", type=float, default=0.5,
                        help="class weights (n_largest / n_class) ** BALANCE: 0 unweighted, 1 balanced")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cardioscreen.rhythm.training import train_rhythm

    logging.getLogger("cardioscreen").setLevel(logging.INFO)
    model = train_rhythm(args.data, args.out, C=args.C, balance=args.balance)
    print(json.dumps({"out": str(args.out), "classes": list(model.classes),
                      "validation": model.meta.get("validation", {})}))
    return 0
