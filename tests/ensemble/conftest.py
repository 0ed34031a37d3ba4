"""Small real data for the ensemble tests: ptbxl-z100 records, simple per-lead features and superclass labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SUPERCLASSES = ["NORM", "MI", "STTC", "CD", "HYP"]


@pytest.fixture(scope="session")
def z100_small(shared_data: Path) -> dict[str, np.ndarray]:
    """400 training and all 178 validation records of ptbxl-z100: 48 features (per lead: std, mean |diff|,
    max, min; standardised on the training rows), labels (n, 5), training-row mask."""
    import pandas as pd

    root = shared_data / "ptbxl-z100"
    index = pd.read_csv(root / "index.csv")
    signals = np.load(root / "signals.npy", mmap_mode="r")
    rows = np.concatenate([np.flatnonzero(index.split == "train")[:400], np.flatnonzero(index.split == "val")])
    x = np.asarray(signals[rows], dtype=np.float32)
    feats = np.concatenate([x.std(-1), np.abs(np.diff(x, axis=-1)).mean(-1), x.max(-1), x.min(-1)], axis=1)
    train = index.split.to_numpy()[rows] == "train"
    feats = (feats - feats[train].mean(0)) / feats[train].std(0)
    return {"X": feats.astype(np.float64), "Y": index.loc[rows, SUPERCLASSES].to_numpy(np.float64),
            "train": train}
