"""Which records a task is evaluated on, and where a bundle keeps its class priors (shared by training and
:mod:`cardioscreen.evaluation`)."""

from __future__ import annotations

import numpy as np

PRIOR_KEY = "train_prevalence"
"""Manifest ``training`` key holding each label's training prevalence (the naive baseline's scores)."""


def evaluated_rows(task: str, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Bool per record: counted for ``task``. Records with no known label are left out, and for the benchmark
    tasks other than ``seed17`` also those without a positive label (as the PTB-XL benchmark does)."""
    known = np.asarray(mask.any(axis=1))
    return known if task == "seed17" else np.asarray(known & ((y * mask).sum(axis=1) > 0))
