"""Features of R-peak candidates for the learned verifier (:mod:`cardioscreen.signal.peak_verify`).

Each candidate (a maximum of the fused QRS envelope, :class:`~cardioscreen.signal.peak_candidates.Candidates`) is
described by what rules find hard to weigh together: its height and QRS slope relative to the record's typical beat,
to the running levels and to its neighbours; its timing relative to the local rhythm (RR before and after, the gap it
lies in, the T-wave zone of the previous beat); its width; how well its QRS shape matches the record's median beat
template and its neighbours'; and the local noise. The "beats" that give the context are the rule detector's. The
distance to the record's ends is left out on purpose: how close to an end a beat gets annotated is a convention of
each database, not a property of the beat.
"""

from __future__ import annotations

import numpy as np

from cardioscreen.signal.peak_candidates import Candidates, window_index
from cardioscreen.signal.peak_select import running_quantile

__all__ = ["FEATURE_NAMES", "MISSING", "candidate_features"]

FEATURE_NAMES: tuple[str, ...] = (
    "log_snr", "rel_level", "rel_height", "rel_slope", "slope_per_height",
    "width_s", "template_corr", "template_amp", "prev_corr", "next_corr", "rr_s", "dt_prev_rr", "dt_next_rr",
    "dt_prev_s", "gap_rr", "h_prev_beat", "h_next_beat", "h_prev_cand", "h_next_cand", "dt_prev_cand_rr",
    "dt_next_cand_rr", "gap_dominance", "gap_position", "noise",
)
"""Column names of :func:`candidate_features`, in order."""

MISSING = -100.0
"""Value of a feature that does not exist (no previous or next beat, no other candidate in the gap): below every
real value, so that a tree can split it off."""
_TEMPLATE_S = 0.1
"""Half-width (s) of the QRS window whose shape is compared with the template and the neighbours."""
_SHAPE_LEADS = 3
"""QRS shapes are compared on at most this many leads (the clearest ones)."""
_TEMPLATE_BEATS = 64
"""The median beat template is taken over about this many beats spread over the record."""


def _median(x: np.ndarray) -> np.ndarray:
    """Median along the first axis by sorting (much less overhead than ``np.median`` on the short arrays here);
    ``x`` must not be empty."""
    x = np.sort(x, axis=0)
    n = len(x)
    return np.asarray(0.5 * (x[(n - 1) // 2] + x[n // 2]))


def _ratio(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """``log(a / b)`` with both floored at a tiny positive value."""
    return np.asarray(np.log(np.maximum(a, 1e-12) / np.maximum(b, 1e-12)))


def _shapes(c: Candidates) -> tuple[np.ndarray, np.ndarray]:
    """QRS shapes of the candidates: the derivative of the ``_SHAPE_LEADS`` highest-weighted leads within
    ``_TEMPLATE_S`` of each one, each lead scaled by the root of its weight and the leads joined, then centred and
    scaled to unit norm ``(k, leads * width)``; and their norms before scaling ``(k,)``."""
    used = np.argsort(-c.weights)[:_SHAPE_LEADS]
    used = used[c.weights[used] > 0]
    half = max(int(round(_TEMPLATE_S * c.fs)), 1)
    n = c.small.shape[-1]
    idx = window_index(c.index, np.arange(-half, half + 1), n)[:, None, :]
    row = (used * n)[None, :, None]
    flat = c.small.reshape(-1)
    deriv = flat[row + idx] - flat[row + np.maximum(idx - 1, 0)]  # the derivative at idx, 0 at the first sample
    shapes = (deriv * np.sqrt(c.weights[used])[:, None]).reshape(len(c.index), -1)
    shapes -= np.add.reduce(shapes, axis=1, keepdims=True) / shapes.shape[1]
    norm = np.sqrt(np.add.reduce(shapes * shapes, axis=1))
    shapes /= np.maximum(norm, 1e-30)[:, None]
    return shapes, norm


def _width(c: Candidates) -> np.ndarray:
    """Time (s) the envelope stays above half of each candidate's height, within 0.3 s on either side."""
    reach = max(int(round(0.3 * c.fs)), 1)
    idx = window_index(c.index, np.arange(-reach, reach + 1), len(c.env))
    above = c.env[idx] >= 0.5 * c.height[:, None]
    centre = reach
    left = np.argmin(above[:, centre::-1], axis=1)
    right = np.argmin(above[:, centre:], axis=1)
    left = np.where(above[:, centre::-1].all(axis=1), reach + 1, left)
    right = np.where(above[:, centre:].all(axis=1), reach + 1, right)
    return np.asarray((left + right - 1) / c.fs)


def _neighbour(beats: np.ndarray, side: int) -> np.ndarray:
    """For every candidate, the index of the nearest beat strictly before (``side=-1``) or after (``+1``) it
    (``-1`` where there is none)."""
    pos = np.flatnonzero(beats)
    k = len(beats)
    if side < 0:
        where = np.searchsorted(pos, np.arange(k), side="left") - 1
        return np.where(where >= 0, pos[np.maximum(where, 0)] if len(pos) else -1, -1)
    where = np.searchsorted(pos, np.arange(k), side="right")
    return np.where(where < len(pos), pos[np.minimum(where, len(pos) - 1)] if len(pos) else -1, -1)


def _gap_dominance(c: Candidates, beats: np.ndarray, prev_b: np.ndarray) -> np.ndarray:
    """``log`` of each non-beat candidate's height over the highest other non-beat candidate in its RR gap (the
    span after the previous beat, or from the record's start); NaN for beats and for a candidate alone in its gap."""
    out = np.full(len(c.index), np.nan)
    others = np.flatnonzero(~beats)
    if len(others) < 2:
        return out
    gap = prev_b[others]
    order = others[np.lexsort((-c.height[others], gap))]
    group = prev_b[order]
    first = np.r_[True, group[1:] != group[:-1]]
    top = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    second = np.minimum(top + 1, len(order) - 1)
    has_second = (second != top) & (group[second] == group)
    reference = np.where(first, np.where(has_second, c.height[order[second]], np.nan), c.height[order[top]])
    out[order] = _ratio(c.height[order], reference)
    return out


def candidate_features(c: Candidates, beats: np.ndarray) -> np.ndarray:
    """Feature matrix of the candidates, columns :data:`FEATURE_NAMES`.

    Parameters
    ----------
    c : Candidates
        The record's candidates, ``k`` of them.
    beats : np.ndarray
        Shape ``(k,)``, bool: the candidates taken as beats for the context features (the rule verdict
        ``c.rule``).

    Returns
    -------
    np.ndarray
        Shape ``(k, len(FEATURE_NAMES))``, float64; :data:`MISSING` where a neighbour does not exist.
    """
    k = len(c.index)
    beats = np.asarray(beats, dtype=bool)
    if k == 0:
        return np.zeros((0, len(FEATURE_NAMES)))
    fs = c.fs
    pos = c.index.astype(np.float64)
    bpos = pos[beats]
    if len(bpos) >= 2:
        rr_b = running_quantile(np.diff(bpos), 9)
        rr = np.interp(pos, 0.5 * (bpos[1:] + bpos[:-1]), rr_b)
    else:
        rr = np.full(k, fs)
    some = beats if beats.any() else np.ones(k, dtype=bool)
    typical_h, typical_s = (float(v) for v in _median(np.stack([c.height[some], c.slope[some]], axis=1)))
    prev_b, next_b = _neighbour(beats, -1), _neighbour(beats, 1)
    has_prev, has_next = prev_b >= 0, next_b >= 0
    nan = np.full(k, np.nan)
    dt_prev = np.where(has_prev, pos - pos[prev_b], nan)
    dt_next = np.where(has_next, pos[next_b] - pos, nan)
    shapes, norm = _shapes(c)
    members = np.flatnonzero(beats) if beats.sum() >= 2 else np.arange(k)
    template = _median(shapes[members[:: max(len(members) // _TEMPLATE_BEATS, 1)]])
    template -= template.mean()
    template /= max(float(np.linalg.norm(template)), 1e-30)
    typical_norm = float(_median(norm[some]))
    prev_c, next_c = np.arange(k) - 1, np.arange(k) + 1
    prev_ok, next_ok = prev_c >= 0, next_c < k
    prev_c, next_c = np.maximum(prev_c, 0), np.minimum(next_c, k - 1)
    median_floor = float(_median(c.floor)) or 1.0
    columns = {
        "log_snr": _ratio(c.height, c.floor),
        "rel_level": (c.height - c.floor) / np.maximum(c.level - c.floor, 1e-12),
        "rel_height": _ratio(c.height, typical_h),
        "rel_slope": _ratio(c.slope, typical_s),
        "slope_per_height": _ratio(c.slope, c.height),
        "width_s": _width(c),
        "template_corr": shapes @ template,
        "template_amp": _ratio(norm, typical_norm),
        "prev_corr": np.where(has_prev, np.einsum("ij,ij->i", shapes, shapes[np.maximum(prev_b, 0)]), nan),
        "next_corr": np.where(has_next, np.einsum("ij,ij->i", shapes, shapes[np.maximum(next_b, 0)]), nan),
        "rr_s": rr / fs,
        "dt_prev_rr": dt_prev / rr,
        "dt_next_rr": dt_next / rr,
        "dt_prev_s": dt_prev / fs,
        "gap_rr": (dt_prev + dt_next) / rr,
        "h_prev_beat": np.where(has_prev, _ratio(c.height, c.height[np.maximum(prev_b, 0)]), nan),
        "h_next_beat": np.where(has_next, _ratio(c.height, c.height[np.maximum(next_b, 0)]), nan),
        "h_prev_cand": np.where(prev_ok, _ratio(c.height, c.height[prev_c]), nan),
        "h_next_cand": np.where(next_ok, _ratio(c.height, c.height[next_c]), nan),
        "dt_prev_cand_rr": np.where(prev_ok, (pos - pos[prev_c]) / rr, nan),
        "dt_next_cand_rr": np.where(next_ok, (pos[next_c] - pos) / rr, nan),
        "gap_dominance": _gap_dominance(c, beats, prev_b),
        "gap_position": dt_prev / (dt_prev + dt_next),
        "noise": _ratio(c.floor, median_floor),
    }
    return np.nan_to_num(np.stack([columns[name] for name in FEATURE_NAMES], axis=1), nan=MISSING)
