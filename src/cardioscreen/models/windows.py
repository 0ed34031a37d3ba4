"""Windows of the PTB-XL benchmark: random crops for training, sliding windows and max aggregation at test time."""

from __future__ import annotations

import numpy as np

from cardioscreen.errors import CardioScreenError


def _samples(seconds: float, fs: float, what: str) -> int:
    n = int(round(seconds * fs))
    if n < 1:
        raise CardioScreenError(f"{what} of {seconds} s at {fs} Hz is shorter than one sample")
    return n


def sliding_windows(x: np.ndarray, fs: float, window_s: float, stride_s: float) -> np.ndarray:
    """Cut ``x`` (``(..., samples)``) into windows of ``window_s`` seconds every ``stride_s`` seconds.

    Returns ``(n_windows, ..., window_samples)``. The last window is aligned to the end of the record so the
    tail is covered; a record shorter than one window raises :class:`CardioScreenError`.
    """
    win, step = _samples(window_s, fs, "window"), _samples(stride_s, fs, "stride")
    total = x.shape[-1]
    if total < win:
        raise CardioScreenError(f"record of {total} samples is shorter than the {win}-sample window")
    starts = list(range(0, total - win + 1, step))
    if starts[-1] != total - win:
        starts.append(total - win)
    return np.stack([x[..., s : s + win] for s in starts])


def random_crop(x: np.ndarray, fs: float, window_s: float, rng: np.random.Generator) -> np.ndarray:
    """One random ``window_s``-second crop of ``x`` (``(..., samples)``), as in training (2.5 s in the benchmark)."""
    win = _samples(window_s, fs, "window")
    total = x.shape[-1]
    if total < win:
        raise CardioScreenError(f"record of {total} samples is shorter than the {win}-sample window")
    start = int(rng.integers(0, total - win + 1))
    return x[..., start : start + win]


def aggregate_max(window_scores: np.ndarray, owners: np.ndarray | None = None) -> np.ndarray:
    """Maximum of window scores ``(n_windows, classes)``, over all windows or per owner.

    With ``owners`` (``(n_windows,)`` integers ``0 .. n_records - 1``) the result is ``(n_records, classes)``;
    without, ``(classes,)``.
    """
    scores = np.asarray(window_scores)
    if owners is None:
        return scores.max(axis=0)
    owners = np.asarray(owners)
    if owners.shape[0] != scores.shape[0]:
        raise CardioScreenError(f"{owners.shape[0]} owners for {scores.shape[0]} window scores")
    out = np.full((int(owners.max()) + 1, *scores.shape[1:]), -np.inf, dtype=np.float64)
    np.maximum.at(out, owners, scores)
    return out
