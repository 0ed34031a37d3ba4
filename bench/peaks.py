"""R-peak detection scored on MIT-BIH (100-series), CPSC 2019 and LUDB, cardioscreen beside neurokit2's default
detector.

MIT-BIH: both leads given to ``ecg_peaks``; neurokit2 runs ``ecg_clean`` + ``ecg_peaks`` on the first lead (MLII),
both at 360 Hz; reference = beat annotations only; 150 ms tolerance. CPSC 2019: the single lead at 500 Hz,
reference R_peak; scored both with 150 ms and with the challenge's own rule (75 ms, beats in the first and last
0.5 s ignored). LUDB: all 12 leads given to ``ecg_peaks`` (neurokit2: lead I), reference = the cardiologists'
lead II QRS marks, scored within the annotated span only (the first and last beats are not annotated), 150 ms.
CPU time is ``time.process_time`` over the detection calls only (files are read beforehand).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.common import SHARED_DATA
from cardioscreen.signal.peaks import PeakScore, ecg_peaks, match_peaks

# Beat annotation symbols of the MIT-BIH databases (wfdb's ann_label_table, beats only).
BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")

Detector = Callable[[np.ndarray, float], np.ndarray]


def _ours(sig: np.ndarray, fs: float) -> np.ndarray:
    return ecg_peaks(sig, fs)[0]


def _neurokit(sig: np.ndarray, fs: float) -> np.ndarray:
    import neurokit2 as nk

    rate = int(round(fs))
    _, found = nk.ecg_peaks(nk.ecg_clean(sig[0].astype(np.float64), sampling_rate=rate), sampling_rate=rate)
    return np.asarray(found["ECG_R_Peaks"], dtype=np.int64)


DETECTORS: dict[str, Detector] = {"cardioscreen": _ours, "neurokit2": _neurokit}


def load_mitdb(folder: Path) -> list[tuple[str, np.ndarray, float, np.ndarray]]:
    """(record, signal (2, samples) mV, fs, reference beat samples) for every record in ``folder``."""
    import wfdb

    out = []
    for hea in sorted(folder.glob("*.hea")):
        rec = wfdb.rdrecord(str(hea.with_suffix("")))
        ann = wfdb.rdann(str(hea.with_suffix("")), "atr")
        beats = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in BEAT_SYMBOLS])
        out.append((hea.stem, rec.p_signal.T.astype(np.float32), float(rec.fs), beats))
    return out


def load_cpsc2019(folder: Path) -> list[tuple[str, np.ndarray, float, np.ndarray]]:
    """(record, signal (1, 5000) mV, 500 Hz, reference R-peaks) for every CPSC 2019 file in ``folder``."""
    from scipy.io import loadmat

    out = []
    for path in sorted((folder / "data").glob("data_*.mat")):
        number = path.stem.split("_")[1]
        sig = loadmat(path)["ecg"].ravel().astype(np.float32)[None, :]
        ref = loadmat(folder / "ref" / f"R_{number}.mat")["R_peak"].ravel().astype(np.int64)
        out.append((number, sig, 500.0, ref))
    return out


def load_ludb(folder: Path) -> list[tuple[str, np.ndarray, float, np.ndarray]]:
    """(record, signal (12, 5000) mV, 500 Hz, lead II QRS annotations) for every LUDB record in ``folder``."""
    import wfdb

    out = []
    for hea in sorted(folder.glob("*.hea"), key=lambda path: int(path.stem)):
        rec = wfdb.rdrecord(str(hea.with_suffix("")))
        ann = wfdb.rdann(str(hea.with_suffix("")), "ii")
        ref = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym == "N"], dtype=np.int64)
        out.append((hea.stem, rec.p_signal.T.astype(np.float32), float(rec.fs), ref))
    return out


def _within(x: np.ndarray, start: int, stop: int) -> np.ndarray:
    return x[(x >= start) & (x < stop)]


def score(records: list[tuple[str, np.ndarray, float, np.ndarray]], detector: Detector, tolerance_s: float,
          edge_s: float = 0.0, annotated_span: bool = False) -> tuple[PeakScore, float, dict[str, PeakScore]]:
    """Gross score over ``records``, CPU seconds of detection, and the score per record.

    Beats within ``edge_s`` of either end are ignored; with ``annotated_span`` detections are kept only from
    one tolerance before the first reference beat to one after the last."""
    per_record: dict[str, PeakScore] = {}
    cpu = 0.0
    for name, sig, fs, ref in records:
        start = time.process_time()
        found = detector(sig, fs)
        cpu += time.process_time() - start
        tolerance = int(round(tolerance_s * fs))
        start, stop = int(round(edge_s * fs)), sig.shape[-1] - int(round(edge_s * fs))
        if annotated_span and len(ref):
            start, stop = max(start, int(ref[0]) - tolerance), min(stop, int(ref[-1]) + tolerance + 1)
        per_record[name] = match_peaks(_within(ref, start, stop), _within(found, start, stop), tolerance)
    total = sum(per_record.values(), PeakScore(0, 0, 0))
    return total, cpu, per_record


def main() -> None:
    cpsc = load_cpsc2019(SHARED_DATA / "cpsc2019")
    datasets = {
        "MIT-BIH 100s (2 leads, 150 ms)": (load_mitdb(SHARED_DATA / "mitdb"), 0.150, 0.0, False),
        "CPSC 2019 (150 ms)": (cpsc, 0.150, 0.0, False),
        "CPSC 2019 (official: 75 ms, 0.5 s edges)": (cpsc, 0.075, 0.5, False),
        "LUDB (12 leads, lead II marks, 150 ms)": (load_ludb(SHARED_DATA / "ludb"), 0.150, 0.0, True),
    }
    print(f"{'dataset':42s} {'detector':13s} {'beats':>6s} {'Se %':>7s} {'PPV %':>7s} {'F1 %':>7s} {'CPU s':>7s}")
    worst: dict[str, list[tuple[str, PeakScore]]] = {}
    for label, (records, tol, edge, span) in datasets.items():
        cpu_by: dict[str, float] = {}
        for det_name, detector in DETECTORS.items():
            total, cpu, per_record = score(records, detector, tol, edge, span)
            cpu_by[det_name] = cpu
            print(f"{label:42s} {det_name:13s} {total.tp + total.fn:6d} {100 * total.sensitivity:7.2f} "
                  f"{100 * total.ppv:7.2f} {100 * total.f1:7.2f} {cpu:7.2f}")
            if det_name == "cardioscreen":
                worst[label] = sorted(per_record.items(), key=lambda kv: kv[1].f1)[:5]
        print(f"{'':42s} CPU time ratio cardioscreen / neurokit2 = {cpu_by['cardioscreen'] / cpu_by['neurokit2']:.2f}")
    for label, items in worst.items():
        text = ", ".join(f"{name} Se {100 * s.sensitivity:.1f} PPV {100 * s.ppv:.1f}" for name, s in items)
        print(f"worst cardioscreen records, {label}: {text}")
