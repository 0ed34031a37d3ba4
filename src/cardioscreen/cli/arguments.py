"""Argument types shared by several subcommands."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cardioscreen.errors import ECGFormatError
from cardioscreen.io import read_ecg
from cardioscreen.record import ECGRecord


def fold_list(text: str) -> tuple[int, ...]:
    """``"1,2,3"`` -> ``(1, 2, 3)``: PTB-XL ``strat_fold`` values given on the command line."""
    try:
        return tuple(int(f) for f in text.split(",") if f.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"folds must be comma-separated integers, got {text!r}") from exc


def read_record(path: Path, fs: float | None) -> ECGRecord:
    """``path`` as its 12 standard leads where it has them (8-lead files get the derived limb leads), else as
    stored; ``fs`` (Hz) for formats that do not store a rate."""
    options: dict[str, Any] = {} if fs is None else {"fs": fs}
    try:
        return read_ecg(path, standard12=True, **options)
    except ECGFormatError:
        return read_ecg(path, **options)
