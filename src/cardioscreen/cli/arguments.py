"""Argument types shared by several subcommands."""

from __future__ import annotations

import argparse


def fold_list(text: str) -> tuple[int, ...]:
    """``"1,2,3"`` -> ``(1, 2, 3)``: PTB-XL ``strat_fold`` values given on the command line."""
    try:
        return tuple(int(f) for f in text.split(",") if f.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"folds must be comma-separated integers, got {text!r}") from exc
