"""The waves of one lead's median complex: Q, R, S (and R'), their amplitudes and durations, the QRS shape label
(``rS``, ``qR``, ``rsR'``, ``QS``...), the ST level at the J point and 60 ms after it, and the T wave.

The QRS is split into waves at the isoelectric line: runs of one sign whose peak reaches :data:`WAVE_MV` are waves
(smaller ones are merged into their neighbours); a wave before the first positive one is a Q, positive waves are R,
R', R'', negative ones after an R are S, S'. A label is upper case when its wave is at least half the complex's
largest, as cardiologists write them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.signal import find_peaks

__all__ = ["WAVE_MV", "LeadWaves", "lead_waves"]

WAVE_MV = 0.05
"""Least peak (mV, either sign) of a QRS wave."""
DEAD_MV = 0.02
"""Samples this close to the isoelectric line keep the sign of the run they are in (no splitting on noise)."""
NOTCH = (0.05, 0.1)
"""A positive wave is notched when it has two peaks with a dip of at least 0.05 mV and 10 % of its height between."""
TERMINAL_S = 0.04
"""The terminal QRS deflection is the mean over the last 40 ms of the QRS."""
ST_OFFSET_S = 0.06
"""The ST level is read at J + 60 ms."""
T_FLAT_MV = 0.1
"""A T wave whose larger peak is below this is flat."""


@dataclass(frozen=True)
class LeadWaves:
    """Amplitude measurements of one lead (mV against the isoelectric level, durations in ms).

    ``q_mv``/``q_ms``: depth and width of the initial negative wave (the whole complex for a QS); ``r_mv``: the
    highest positive wave; ``r_prime_mv``: the last positive wave when there are two or more (else 0); ``s_mv``
    and ``s_ms``: the deepest negative wave after the first positive one (the QS depth for a QS); ``r_ms``: width
    of the highest positive wave; ``r_peak_time_ms``: QRS onset to the peak of the last positive wave; ``notched``:
    the highest positive wave has two peaks; ``terminal_mv``: mean of the last 40 ms of the QRS; ``qrs_pp_mv``:
    peak-to-peak; ``st_j_mv`` and ``st60_mv``: the level at the J point and 60 ms after it; ``t_mv``: the T wave's
    larger peak with its sign; ``t_polarity``: ``positive``, ``negative``, ``biphasic`` or ``flat``; ``shape``:
    the QRS label.
    """

    q_mv: float
    q_ms: float
    r_mv: float
    r_ms: float
    r_prime_mv: float
    s_mv: float
    s_ms: float
    r_peak_time_ms: float
    notched: bool
    terminal_mv: float
    qrs_pp_mv: float
    st_j_mv: float
    st60_mv: float
    t_mv: float
    t_polarity: str
    shape: str

    @property
    def qs(self) -> bool:
        """The complex is wholly negative."""
        return self.shape == "QS"

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _runs(y: list[float]) -> list[tuple[int, int, int]]:
    """Waves of ``y`` (one QRS, finite mV): ``(sign, start, stop)`` with ``stop`` exclusive, small ones merged away.

    On a list: a QRS is a few dozen samples, which Python walks faster than NumPy calls start."""
    sign = [0 if abs(v) < DEAD_MV else (1 if v > 0 else -1) for v in y]
    first = next((s for s in sign if s), 0)
    if not first:
        return []
    # a near-zero sample continues the run before it (those before the first clear sample, the one after)
    filled, current = [], first
    for s in sign:
        current = s or current
        filled.append(current)
    runs, start = [], 0
    for i in range(1, len(filled) + 1):
        if i == len(filled) or filled[i] != filled[i - 1]:
            runs.append((filled[start], start, i))
            start = i
    kept = [run for run in runs if max(abs(v) for v in y[run[1]:run[2]]) >= WAVE_MV]
    merged: list[tuple[int, int, int]] = []
    for s, a, b in kept:
        if merged and merged[-1][0] == s:
            merged[-1] = (s, merged[-1][1], b)
        else:
            merged.append((s, a, b))
    return merged


def _mean(x: np.ndarray) -> float:
    """``float(np.mean(x))`` of a short 1-D array, without its overhead (the same sum, divided the same way)."""
    return float(np.add.reduce(x)) / x.size if x.size else float("nan")


def _label(waves: list[tuple[int, float]]) -> str:
    """Cardiologists' label of a QRS from its waves ``(sign, peak mV)``."""
    if not any(s > 0 for s, _ in waves):
        return "QS" if waves else ""
    big = max(a for _, a in waves)
    out, n_r, n_s = [], 0, 0
    for s, a in waves:
        if s > 0:
            letter, n_r = "R" + "'" * n_r, n_r + 1
        elif n_r == 0:
            letter = "Q"
        else:
            letter, n_s = "S" + "'" * n_s, n_s + 1
        out.append(letter if a >= 0.5 * big else letter.lower())
    return "".join(out)


def lead_waves(y: np.ndarray, fs: float, qrs_on: float, qrs_off: float, t_off: float) -> LeadWaves:
    """Measure one lead's median complex.

    Parameters
    ----------
    y : np.ndarray
        Shape ``(samples,)``, the lead's median beat in mV against the isoelectric level (finite, float64).
    fs : float
        Sampling rate in Hz.
    qrs_on, qrs_off, t_off : float
        The lead's QRS onset and offset (its J point) and the T offset, as sample indices into ``y`` (``t_off`` may
        be NaN: the T wave is then searched up to 400 ms after the J point).
    """
    ms = 1000.0 / fs
    on, off = int(round(qrs_on)), int(round(qrs_off))
    qrs = y[on:off + 1]
    values = qrs.tolist()
    runs = _runs(values)
    waves = [(s, max(abs(v) for v in values[a:b])) for s, a, b in runs]
    positive = [(a, b) for s, a, b in runs if s > 0]
    first_pos = positive[0][0] if positive else qrs.size
    q = [(a, b) for s, a, b in runs if s < 0 and a < first_pos]
    s_waves = [(a, b) for s, a, b in runs if s < 0 and a >= first_pos]
    if positive:
        a, b = max(positive, key=lambda ab: max(values[ab[0]:ab[1]]))
        r_mv, r_ms = max(values[a:b]), (b - a) * ms
        notched = len(find_peaks(qrs[a:b], prominence=max(NOTCH[0], NOTCH[1] * r_mv))[0]) >= 2
        last = values[positive[-1][0]:positive[-1][1]]
        r_peak = positive[-1][0] + last.index(max(last))
        r_prime_mv = max(last) if len(positive) > 1 else 0.0
    else:
        r_mv = r_ms = r_prime_mv = 0.0
        notched, r_peak = False, 0
    q_mv = -min(values[q[0][0]:q[0][1]]) if q else 0.0
    q_ms = (q[0][1] - q[0][0]) * ms if q else 0.0
    if s_waves:
        a, b = min(s_waves, key=lambda ab: min(values[ab[0]:ab[1]]))
        s_mv, s_ms = -min(values[a:b]), (b - a) * ms
    else:
        s_mv, s_ms = (q_mv, q_ms) if not positive else (0.0, 0.0)
    terminal = qrs[max(0, qrs.size - int(round(TERMINAL_S * fs))):]
    half = max(1, int(round(0.004 * fs)))
    st60 = off + int(round(ST_OFFSET_S * fs))
    t_end = int(round(t_off)) if np.isfinite(t_off) else off + int(round(0.4 * fs))
    t_seg = y[min(st60, y.size - 1):min(max(t_end, st60 + 1), y.size)]
    t_hi, t_lo = float(np.max(t_seg)), float(np.min(t_seg))
    return LeadWaves(
        q_mv=q_mv, q_ms=q_ms, r_mv=r_mv, r_ms=r_ms, r_prime_mv=r_prime_mv, s_mv=s_mv, s_ms=s_ms,
        r_peak_time_ms=r_peak * ms if positive else 0.0, notched=bool(notched),
        terminal_mv=_mean(terminal), qrs_pp_mv=max(values) - min(values),
        st_j_mv=_mean(y[max(off - half, 0):off + half + 1]),
        st60_mv=_mean(y[max(st60 - half, 0):st60 + half + 1]),
        t_mv=t_hi if t_hi >= -t_lo else t_lo, t_polarity=_t_polarity(t_hi, -t_lo), shape=_label(waves),
    )


def _t_polarity(up: float, down: float) -> str:
    """``flat``, ``biphasic``, ``positive`` or ``negative`` from the T wave's highest and deepest points (mV)."""
    if max(up, down) < T_FLAT_MV:
        return "flat"
    if min(up, down) >= T_FLAT_MV and min(up, down) >= 0.3 * max(up, down):
        return "biphasic"
    return "positive" if up > down else "negative"
