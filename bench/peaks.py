"""R-peak detection scored on MIT-BIH (100-series), CPSC 2019 and LUDB: cardioscreen's learned verifier (default),
its rule detector and neurokit2's default detector, in the same run.

The default detector's verifier is fitted on these same three datasets, so its honest figure is the record-wise
cross-validated one ("5-fold CV": every record's R-peaks come from a verifier fitted without that record's fold,
:func:`cardioscreen.signal.peak_train.cross_validated_peaks`). The shipped verifier (fitted on all records) is
also scored as it is, for reference only: those figures are in-sample.

MIT-BIH: both leads given to ``ecg_peaks``; neurokit2 runs ``ecg_clean`` + ``ecg_peaks`` on the first lead (MLII),
both at 360 Hz; reference = beat annotations only; 150 ms tolerance. CPSC 2019: the single lead at 500 Hz,
reference R_peak; scored both with 150 ms and with the challenge's own rule (75 ms, beats in the first and last
0.5 s ignored). LUDB: all 12 leads given to ``ecg_peaks`` (neurokit2: lead I), reference = the cardiologists'
lead II QRS marks, scored within the annotated span only (the first and last beats are not annotated), 150 ms.
CPU time is ``time.process_time`` over the detection calls only (files are read beforehand). The cross-validated F1
of each scoring comes with a 90% bootstrap interval over records (records resampled, their counts pooled).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from bench.common import SHARED_DATA
from cardioscreen.signal.peak_train import (
    PeakRecord,
    VerifierConfig,
    cross_validated_peaks,
    label_candidates,
    load_peak_records,
    score_peaks,
)
from cardioscreen.signal.peaks import PeakScore, ecg_peaks
from cardioscreen.training.metrics import CI_LEVEL, bootstrap_ci

Detector = Callable[[np.ndarray, float], np.ndarray]

DETECTORS: dict[str, Detector] = {
    "cardioscreen": lambda sig, fs: ecg_peaks(sig, fs)[0],
    "rules": lambda sig, fs: ecg_peaks(sig, fs, method="rules")[0],
    "neurokit2": lambda sig, fs: ecg_peaks(sig, fs, method="neurokit")[0],
}

# (label, dataset, tolerance s, edges ignored s)
SCORINGS = (
    ("MIT-BIH 100s (2 leads, 150 ms)", "mitdb", 0.150, 0.0),
    ("CPSC 2019 (150 ms)", "cpsc2019", 0.150, 0.0),
    ("CPSC 2019 (official: 75 ms, 0.5 s edges)", "cpsc2019", 0.075, 0.5),
    ("LUDB (12 leads, lead II marks, 150 ms)", "ludb", 0.150, 0.0),
)


def _detect(records: Sequence[PeakRecord], detector: Detector) -> tuple[list[np.ndarray], float]:
    """Every record's detections and the CPU seconds they took."""
    found, cpu = [], 0.0
    for record in records:
        start = time.process_time()
        found.append(detector(record.signal, record.fs))
        cpu += time.process_time() - start
    return found, cpu


def _total(records: Sequence[PeakRecord], found: Sequence[np.ndarray], dataset: str, tolerance_s: float,
           edge_s: float) -> tuple[PeakScore, dict[str, PeakScore]]:
    per_record = {r.name: score_peaks(r, p, tolerance_s, edge_s)
                  for r, p in zip(records, found, strict=True) if r.dataset == dataset}
    return sum(per_record.values(), PeakScore(0, 0, 0)), per_record


def _f1_interval(per_record: dict[str, PeakScore]) -> tuple[float, float]:
    """Bootstrap interval (over records) of the pooled F1 of ``per_record``."""
    counts = np.array([(s.tp, s.fn, s.fp) for s in per_record.values()], dtype=np.float64)

    def pooled_f1(rows: np.ndarray) -> float:
        tp, fn, fp = counts[rows].sum(axis=0)
        return float(2 * tp / (2 * tp + fn + fp))

    return bootstrap_ci(pooled_f1, len(counts))


def main() -> None:
    records = load_peak_records(SHARED_DATA)
    cfg = VerifierConfig()
    start = time.perf_counter()
    tables = [label_candidates(r, cfg) for r in records]
    runs: dict[str, tuple[list[np.ndarray], dict[str, float]]] = {
        f"cardioscreen, {cfg.folds}-fold CV": (cross_validated_peaks(tables, cfg), {})}
    cv_seconds = time.perf_counter() - start
    for name, detector in DETECTORS.items():
        detector(records[0].signal[:, : int(10 * records[0].fs)], records[0].fs)  # imports and model loading
        cpu_by_dataset = {}
        found: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(records)
        for dataset in dict.fromkeys(r.dataset for r in records):
            members = [i for i, r in enumerate(records) if r.dataset == dataset]
            detections, cpu_by_dataset[dataset] = _detect([records[i] for i in members], detector)
            for i, peaks in zip(members, detections, strict=True):
                found[i] = peaks
        runs[name if name != "cardioscreen" else "cardioscreen, shipped"] = (found, cpu_by_dataset)
    print(f"record-wise {cfg.folds}-fold cross-validation of the verifier (fitted {cfg.folds} times on MIT-BIH + "
          f"CPSC 2019 + LUDB without the scored records' fold) took {cv_seconds:.0f} s; 'shipped' = the packaged "
          "verifier fitted on all records, scored in-sample (reference only)")
    print(f"{'dataset':42s} {'detector':24s} {'beats':>6s} {'Se %':>7s} {'PPV %':>7s} {'F1 %':>7s} {'CPU s':>7s}")
    worst: dict[str, list[tuple[str, PeakScore]]] = {}
    intervals: dict[str, tuple[float, float]] = {}
    for label, dataset, tolerance, edge in SCORINGS:
        for name, (found, cpu) in runs.items():
            total, per_record = _total(records, found, dataset, tolerance, edge)
            cpu_text = f"{cpu[dataset]:7.2f}" if dataset in cpu else f"{'':>7s}"
            print(f"{label:42s} {name:24s} {total.tp + total.fn:6d} {100 * total.sensitivity:7.2f} "
                  f"{100 * total.ppv:7.2f} {100 * total.f1:7.2f} {cpu_text}")
            if name.endswith("CV"):
                worst[label] = sorted(per_record.items(), key=lambda kv: kv[1].f1)[:5]
                intervals[label] = _f1_interval(per_record)
    for dataset in ("mitdb", "cpsc2019", "ludb"):
        shipped, rules, theirs = (runs[name][1][dataset] for name in ("cardioscreen, shipped", "rules", "neurokit2"))
        print(f"CPU time {dataset}: cardioscreen / neurokit2 = {shipped / theirs:.2f}, "
              f"rules / neurokit2 = {rules / theirs:.2f}")
    for label, (low, high) in intervals.items():
        print(f"F1 (CV), {label}: {CI_LEVEL:.0%} bootstrap interval over records {100 * low:.2f} - {100 * high:.2f} %")
    for label, items in worst.items():
        text = ", ".join(f"{name} Se {100 * s.sensitivity:.1f} PPV {100 * s.ppv:.1f}" for name, s in items)
        print(f"worst records (CV), {label}: {text}")
