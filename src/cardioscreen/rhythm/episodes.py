"""Sliding windows over a record and the merging of their rhythms into episodes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cardioscreen.rhythm.result import Episode

__all__ = ["WINDOW_S", "STEP_S", "merge_episodes", "smooth_labels", "windows"]

WINDOW_S = 10.0
"""Length of one analysed stretch (s): PTB-XL's records, on which the classifier learned, are 10 s long."""
STEP_S = 5.0
"""Step between consecutive windows (s); each window speaks for its middle ``STEP_S``."""


def windows(n_samples: int, fs: float, window_s: float = WINDOW_S, step_s: float = STEP_S
            ) -> list[tuple[int, int]]:
    """``(start, stop)`` samples of the windows analysed; one window for a record up to 1.5 windows long.

    Parameters
    ----------
    n_samples : int
        Length of the record in samples.
    fs : float
        Sampling rate in Hz.
    window_s, step_s : float
        Window length and step in seconds.

    Returns
    -------
    list of (int, int)
        The last window ends at the record's end.
    """
    width, step = round(window_s * fs), round(step_s * fs)
    if n_samples <= 1.5 * width:
        return [(0, n_samples)]
    starts = list(range(0, n_samples - width + 1, step))
    if starts[-1] + width < n_samples:
        starts.append(n_samples - width)
    return [(s, s + width) for s in starts]


def smooth_labels(labels: Sequence[str]) -> list[str]:
    """A window whose two neighbours agree with each other takes their label (isolated one-window calls)."""
    out = list(labels)
    for i in range(1, len(out) - 1):
        if labels[i - 1] == labels[i + 1] != labels[i]:
            out[i] = labels[i - 1]
    return out


def merge_episodes(labels: Sequence[str], bounds: Sequence[tuple[int, int]], fs: float, n_samples: int
                   ) -> tuple[Episode, ...]:
    """Consecutive windows with one label merged into episodes.

    Each window speaks for the stretch from the midpoint of its overlap with the previous window to that with
    the next (the first from the record's start, the last to its end).

    Parameters
    ----------
    labels : sequence of str
        Rhythm code per window.
    bounds : sequence of (int, int)
        ``(start, stop)`` samples of each window, from :func:`windows`.
    fs : float
        Sampling rate in Hz.
    n_samples : int
        Length of the record in samples.

    Returns
    -------
    tuple of Episode
        In time order, covering the whole record.
    """
    if not labels:
        return ()
    starts = np.array([b[0] for b in bounds], dtype=float)
    stops = np.array([b[1] for b in bounds], dtype=float)
    cuts = np.concatenate([[0.0], (starts[1:] + stops[:-1]) / 2.0, [float(n_samples)]]) / fs
    episodes: list[Episode] = []
    first = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[first]:
            episodes.append(Episode(code=labels[first], start_s=float(cuts[first]), end_s=float(cuts[i])))
            first = i
    return tuple(episodes)
