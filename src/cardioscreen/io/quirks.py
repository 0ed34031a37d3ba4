"""Real-file quirks at the ends of a strip: calibration pulses, padding values and flat filler.

Carts append (or prepend) things to the rhythm strip that are not ECG: Philips Sierra files end with
100 ms of zeros, a 200 ms square pulse of 1 mV on every lead and 100 ms of zeros again; archives pad a
short strip to a fixed length with a declared padding value or by holding the last sample. Left in, the
pulse's edges look like QRS complexes to a peak detector and the filler like asystole to a rhythm check.

The signature of all of them is the same: every lead is *exactly* constant over the same span of at least
:data:`MIN_RUN_S` seconds. Real ECG never does that — quantisation noise alone moves some lead by a step
within a few samples — so a run of frozen columns at an end of the strip is cut off, whatever its kind, and
the kind is only a label for ``meta["trimmed"]``. Frozen spans inside the strip are left alone: they are a
quality problem (lead off, saturation), not something a reader may silently remove. Filler that holds the
last value also takes that last real sample with it (the two cannot be told apart). The test is made for
multi-lead strips: on one or two coarsely quantised leads a quiet baseline can stay frozen for 40 ms.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from cardioscreen.record import MIN_DURATION_S, ECGRecord

logger = logging.getLogger(__name__)

MIN_RUN_S = 0.04
"""Shortest span (s) over which all leads must be exactly constant to count as filler or pulse."""
PULSE_MV = (0.5, 2.0)
"""Step heights (mV) of a frozen run shared by all leads that make it a calibration pulse (1 mV nominal)."""
MAX_PULSE_S = 0.5
"""Longest calibration pulse (s); Sierra's lasts 0.2 s."""


INT16_FILL: tuple[int, ...] = (-32768, 32767)
"""Raw values that mark "no sample" at the end of fixed-size beat buffers (DICOM, SCP, Sierra rep beats)."""


def unfilled_length(counts: np.ndarray, fill: tuple[float, ...] = INT16_FILL) -> int:
    """Number of columns of ``counts`` (``(leads, samples)``, raw values) before a trailing run in which
    every lead holds a fill value (e.g. Sierra pads 600 beat samples to 1200 with 32767)."""
    is_fill = np.all(np.isin(counts, fill), axis=0)
    return int(counts.shape[1] - np.argmin(is_fill[::-1])) if not is_fill.all() else 0


def _frozen_runs(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) sample indices of the runs of identical columns of ``signal``."""
    changed = np.any(signal[:, 1:] != signal[:, :-1], axis=0)
    starts = np.concatenate(([0], np.nonzero(changed)[0] + 1))
    stops = np.concatenate((starts[1:], [signal.shape[1]]))
    return starts, stops


def _label(values: np.ndarray, neighbours: list[np.ndarray], length_s: float, padding: float | None) -> str:
    """Kind of a frozen run with per-lead ``values``; ``neighbours`` are the values of adjacent frozen runs.

    A calibration pulse is a level shared by all leads that stands out from its frozen neighbours (or from
    zero when it has none) by a step in :data:`PULSE_MV`, farther from zero than they are.
    """
    if padding is not None and np.all(values == padding):
        return "padding"
    level = float(values[0])
    references = [float(n[0]) for n in neighbours if np.all(n == n[0])] if neighbours else [0.0]
    is_pulse = bool(np.all(values == level)) and length_s <= MAX_PULSE_S and any(
        PULSE_MV[0] <= abs(level - ref) <= PULSE_MV[1] and abs(level) > abs(ref) for ref in references
    )
    return "calibration_pulse" if is_pulse else "flat_filler"


def _find(
    signal: np.ndarray, fs: float, padding: float | None, min_run_s: float
) -> tuple[int, int, list[dict[str, Any]]]:
    """First and last+1 sample index of the real strip, and the spans outside it."""
    n_samples = signal.shape[1] if signal.ndim == 2 else 0
    if n_samples < 2:
        return 0, n_samples, []
    starts, stops = _frozen_runs(signal)
    long_enough = (stops - starts) >= max(2, int(np.ceil(min_run_s * fs)))
    head = 0
    while head < len(starts) - 1 and long_enough[head]:
        head += 1
    tail = len(starts)
    while tail > head + 1 and long_enough[tail - 1]:
        tail -= 1
    first, last = int(starts[head]), int(stops[tail - 1])
    if (last - first) / fs < MIN_DURATION_S:
        return 0, n_samples, []
    spans = []
    outside = [*range(head), *range(tail, len(starts))]
    for index in outside:
        neighbours = [signal[:, starts[i]] for i in (index - 1, index + 1) if i in outside]
        length_s = (stops[index] - starts[index]) / fs
        kind = _label(signal[:, starts[index]], neighbours, length_s, padding)
        spans.append({"kind": kind, "start_s": float(starts[index] / fs), "stop_s": float(stops[index] / fs)})
    return first, last, spans


def find_end_artifacts(
    signal: np.ndarray, fs: float, *, padding: float | None = None, min_run_s: float = MIN_RUN_S
) -> list[dict[str, Any]]:
    """Spans at the start and end of a strip where every lead is frozen: pulses, padding, filler.

    Parameters
    ----------
    signal : np.ndarray
        Shape ``(leads, samples)``, any units (mV for the pulse classification).
    fs : float
        Sampling rate in Hz.
    padding : float, optional
        The file's declared padding value, in the units of ``signal``; frozen runs at that value are
        labelled ``"padding"``.
    min_run_s : float
        Shortest frozen span counted, in s.

    Returns
    -------
    list of dict
        ``{"kind": "calibration_pulse" | "padding" | "flat_filler", "start_s", "stop_s"}``, in time order.
        The spans never cover the whole strip, and what is left is at least
        :data:`~cardioscreen.record.MIN_DURATION_S` long (otherwise nothing is reported).
    """
    return _find(signal, fs, padding, min_run_s)[2]


def trim_strip(
    signal: np.ndarray, fs: float, *, padding: float | None = None, min_run_s: float = MIN_RUN_S
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Cut the frozen spans found by :func:`find_end_artifacts` off both ends of a strip.

    Parameters
    ----------
    signal : np.ndarray
        Shape ``(leads, samples)``.
    fs : float
        Sampling rate in Hz.
    padding, min_run_s
        As for :func:`find_end_artifacts`.

    Returns
    -------
    trimmed : np.ndarray
        Shape ``(leads, kept_samples)``, a view of ``signal``.
    spans : list of dict
        What was removed, with times in s on the original strip's clock.
    """
    first, last, spans = _find(signal, fs, padding, min_run_s)
    if spans:
        logger.debug("trimmed %s", ", ".join(f"{s['kind']} {s['start_s']:.3f}-{s['stop_s']:.3f} s" for s in spans))
    return signal[:, first:last], spans


def trim_record(record: ECGRecord, *, padding: float | None = None) -> ECGRecord:
    """The record with end artifacts cut off; the spans go to ``meta["trimmed"]`` (an empty list if none).

    ``padding`` is in mV. See :func:`find_end_artifacts`.
    """
    trimmed, spans = trim_strip(record.signal, record.fs, padding=padding)
    out = record.with_signal(trimmed) if spans else record
    out.meta["trimmed"] = [*record.meta.get("trimmed", []), *spans]
    return out
