"""Preprocessing of one real 10 s 12-lead 500 Hz PTB-XL record on one core, beside the prototype's way.

cardioscreen: read_ecg -> ecg_clean -> ecg_peaks (all leads fused) -> ecg_quality (reusing the peaks)
-> ecg_beats (midpoint, 500 samples) -> record_features (22 statistics per lead + rhythm).

Prototype (reference, written here compactly but faithfully): the same read, then per lead neurokit2
``ecg_clean`` + ``ecg_peaks`` (at the correct rate), midpoint beats cut from lead II's peaks and resampled one
by one with ``scipy.signal.resample``, and the 22 statistics computed value by value in Python loops (the
spectrum itself by ``numpy.fft.rfft``). No quality check existed in the prototype.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from bench.common import SHARED_DATA, median_seconds, single_core
from cardioscreen.features import record_features
from cardioscreen.io import read_ecg
from cardioscreen.signal.beats import ecg_beats
from cardioscreen.signal.clean import ecg_clean
from cardioscreen.signal.peaks import ecg_peaks
from cardioscreen.signal.quality import ecg_quality

RECORD = SHARED_DATA / "ptbxl" / "records500" / "00000" / "00001_hr.hea"


def ours(path: Path) -> np.ndarray:
    record = read_ecg(path, standard12=True)
    clean = ecg_clean(record.signal, record.fs)
    peaks = ecg_peaks(clean, record.fs)
    ecg_quality(record.signal, record.fs, record.leads, peaks=peaks)
    beats, _ = ecg_beats(clean, record.fs, peaks[0])
    return record_features(beats, record.fs, record.leads, peaks[0], record.fs)[0]


def median_cpu_seconds(fn: Callable[[], object], repeats: int) -> float:
    """Median CPU time (``time.process_time``) of ``fn()``: steadier than wall time on a shared machine."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return statistics.median(times)


def stages(path: Path) -> dict[str, float]:
    """Median seconds of each of our stages on their own."""
    record = read_ecg(path, standard12=True)
    clean = ecg_clean(record.signal, record.fs)
    peaks = ecg_peaks(clean, record.fs)
    beats, _ = ecg_beats(clean, record.fs, peaks[0])
    steps = {
        "read": lambda: read_ecg(path, standard12=True),
        "clean": lambda: ecg_clean(record.signal, record.fs),
        "peaks": lambda: ecg_peaks(clean, record.fs),
        "quality": lambda: ecg_quality(record.signal, record.fs, record.leads, peaks=peaks),
        "beats": lambda: ecg_beats(clean, record.fs, peaks[0]),
        "features": lambda: record_features(beats, record.fs, record.leads, peaks[0], record.fs),
    }
    return {name: median_seconds(step, repeats=30) for name, step in steps.items()}


def _moments(values: list[float]) -> tuple[float, float, float, float]:
    n = len(values)
    mean = sum(v for v in values) / n
    m2 = sum((v - mean) ** 2 for v in values) / n
    m3 = sum((v - mean) ** 3 for v in values) / n
    m4 = sum((v - mean) ** 4 for v in values) / n
    return mean, m2, (m3 / m2**1.5 if m2 else 0.0), (m4 / m2**2 - 3 if m2 else 0.0)


def _loop_features(beat: np.ndarray, fs: float) -> list[float]:
    """The prototype's 22 statistics of one lead of one beat, value by value."""
    x = [float(v) for v in beat]
    n = len(x)
    mean, var, skew, kurt = _moments(x)
    rms = math.sqrt(sum(v * v for v in x) / n)
    abs_mean = sum(abs(v) for v in x) / n
    sqrt_amp = (sum(math.sqrt(abs(v)) for v in x) / n) ** 2
    peak = max(abs(v) for v in x)
    hi, lo = max(x), min(x)
    out = [mean, rms, sqrt_amp, abs_mean, skew, kurt, hi, lo, hi - lo, var,
           rms / abs_mean if abs_mean else 0.0, peak / rms if rms else 0.0, peak / abs_mean if abs_mean else 0.0]
    spectrum = np.fft.rfft(beat)
    amp, power, freqs = [], [], []
    for k, value in enumerate(spectrum):
        weight = 1.0 if k == 0 or (n % 2 == 0 and k == len(spectrum) - 1) else 2.0
        amp.append(weight * abs(value) / n)
        power.append(weight * abs(value) ** 2 / n)
        freqs.append(k * fs / n)
    s_mean, s_var, s_skew, s_kurt = _moments(amp)
    total_p, total_a = sum(power), sum(amp)
    entropy = -sum(p / total_p * math.log(p / total_p) for p in power if p > 0) / math.log(len(power))
    centroid = sum(f * a for f, a in zip(freqs, amp, strict=True)) / total_a
    spread = math.sqrt(sum((f - centroid) ** 2 * a for f, a in zip(freqs, amp, strict=True)) / total_a)
    return out + [s_mean, s_var, math.sqrt(s_var), entropy, total_p, s_skew, s_kurt, centroid, spread]


def prototype(path: Path) -> list[Any]:
    import neurokit2 as nk
    from scipy.signal import resample

    record = read_ecg(path, standard12=True)
    rate = int(record.fs)
    cleaned, peaks = [], []
    for lead in record.signal.astype(np.float64):
        clean = nk.ecg_clean(lead, sampling_rate=rate)
        cleaned.append(clean)
        peaks.append(np.asarray(nk.ecg_peaks(clean, sampling_rate=rate)[1]["ECG_R_Peaks"]))
    r_peaks = peaks[record.leads.index("II")]
    bounds = [0] + [(a + b) // 2 for a, b in zip(r_peaks[:-1], r_peaks[1:], strict=True)] + [record.n_samples]
    features = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        beat = [resample(lead[start:stop], 500) for lead in cleaned]
        features.append([_loop_features(lead_beat, record.fs) for lead_beat in beat])
    return features


def main() -> None:
    single_core()
    with threadpool_limits(limits=1):
        ours_s = median_seconds(lambda: ours(RECORD), repeats=50, warmup=3)
        proto_s = median_seconds(lambda: prototype(RECORD), repeats=5, warmup=1)
        ours_cpu = median_cpu_seconds(lambda: ours(RECORD), repeats=50)
        proto_cpu = median_cpu_seconds(lambda: prototype(RECORD), repeats=5)
        parts = stages(RECORD)
    print(f"record: {RECORD.relative_to(SHARED_DATA)} (12 leads, 500 Hz, 10 s), one thread; medians")
    print(f"{'':58s} {'wall ms':>8s} {'CPU ms':>8s}")
    print(f"  cardioscreen (read+clean+peaks+quality+beats+features): {1000 * ours_s:8.1f} {1000 * ours_cpu:8.1f}"
          "   (target <= 20 ms)")
    print(f"  prototype (nk clean+peaks per lead, resample, loops):   {1000 * proto_s:8.1f} {1000 * proto_cpu:8.1f}")
    print(f"  speed-up: {proto_s / ours_s:.0f}x wall, {proto_cpu / ours_cpu:.0f}x CPU")
    print("  our stages alone (wall): " + ", ".join(f"{name} {1000 * sec:.1f} ms" for name, sec in parts.items()))
