"""Where the analysis time goes: per-stage median CPU time of one record on one core.

Stages of :meth:`cardioscreen.pipeline.Analyzer.analyze_file`, each timed on its own with
``time.process_time`` (CPU time of this process, so that other work on the machine does not count) over real
10 s, 12-lead, 500 Hz PTB-XL records: reading the file, cleaning, R-peaks, quality, intervals with the DSP and
the hybrid (U-Net P wave + DSP QRS/T) delineation, the amplitudes (median beat and its waves), the network's input
preparation and its ONNX Runtime inference (:func:`cardioscreen.runtime.make_runner`), the stack's hand-made
features (beats around the measured R-peaks and their statistics, on the network input) and the stack itself
(boosting, stacking, calibration), the rhythm, and the whole ``analyze_file`` (file read to result, no report).
Every stage is run once on every record untimed first (loading the models, warming caches).

Environment: ``BENCH_STAGE_RECORDS`` (records, default 50).
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import SHARED_DATA, single_core


def _records(limit: int) -> list[Path]:
    return sorted((SHARED_DATA / "ptbxl" / "records500").rglob("*_hr.hea"))[:limit]


def _median_ms(fn: Callable[[Any], object], items: list[Any], repeats: int = 2) -> float:
    """Median CPU milliseconds of ``fn(item)`` over the items (each timed ``repeats`` times, after one warm-up)."""
    for item in items:
        fn(item)
    times = []
    for _ in range(repeats):
        for item in items:
            start = time.process_time()
            fn(item)
            times.append(time.process_time() - start)
    return 1000.0 * statistics.median(times)


def main() -> None:
    single_core()
    logging.getLogger("cardioscreen").setLevel(logging.ERROR)
    from cardioscreen.datasets.preprocess import windows
    from cardioscreen.ensemble.inputs import peaks_at
    from cardioscreen.ensemble.measurements import measurement_vector
    from cardioscreen.io import read_ecg
    from cardioscreen.pipeline import Analyzer
    from cardioscreen.rhythm import ecg_rhythm
    from cardioscreen.runtime import make_runner
    from cardioscreen.signal.clean import ecg_clean
    from cardioscreen.signal.intervals import ecg_intervals
    from cardioscreen.signal.measure import measure_record
    from cardioscreen.signal.morphology import ecg_morphology
    from cardioscreen.signal.peaks import ecg_peaks
    from cardioscreen.signal.quality import ecg_quality
    from cardioscreen.training.inference import record_input

    paths = _records(int(os.environ.get("BENCH_STAGE_RECORDS", "50")))
    if not paths:
        print(f"no PTB-XL 500 Hz records under {SHARED_DATA / 'ptbxl' / 'records500'}")
        return
    analyzer = Analyzer.load()
    bundle = analyzer.bundle
    run = make_runner(bundle, "onnx")
    spec = bundle.input_spec

    # Each stage's inputs are made once, so that every timing covers its own stage only.
    records = [read_ecg(p).to_standard12() for p in paths]
    cleaned = [ecg_clean(r.signal, r.fs) for r in records]
    peaks = [ecg_peaks(c, r.fs) for c, r in zip(cleaned, records, strict=True)]
    quality = [ecg_quality(r.signal, r.fs, r.leads, peaks=p) for r, p in zip(records, peaks, strict=True)]
    items = list(zip(records, cleaned, peaks, quality, strict=True))
    inputs = [windows(record_input(r, spec), spec.samples, spec.stride) for r in records]
    measured = [(r, measure_record(r)) for r in records]
    stack_items = [(x, measurement_vector(m)[None], [peaks_at(m.r_peaks, m.fs, spec.fs, x.shape[-1])])
                   for x, m in ((record_input(r, spec), m) for r, m in measured)]
    outputs = [(spec.aggregate_outputs(p)[None], e.mean(axis=0)[None]) for p, e in map(run, inputs)]
    stack_inputs = [(*o, analyzer.output.features(x[None], spec, v, r))
                    for o, (x, v, r) in zip(outputs, stack_items, strict=True)]

    def morphology(it: Any) -> object:
        r, m = it
        return ecg_morphology(r.signal, r.fs, r.leads, m.intervals.delineation, beats=m.intervals.normal_beats,
                              lead_mask=np.array([n in m.quality.usable_leads for n in r.leads]))

    def intervals(method: str) -> Callable[[Any], object]:
        return lambda it: ecg_intervals(it[1], it[0].fs, it[2][0], it[0].leads, sex=it[0].meta.get("sex"),
                                        quality=it[3], method=method)

    stages: list[tuple[str, Callable[[Any], object], list[Any]]] = [
        ("read (read_ecg)", read_ecg, paths),
        ("clean (ecg_clean)", lambda it: ecg_clean(it[0].signal, it[0].fs), items),
        ("peaks (ecg_peaks)", lambda it: ecg_peaks(it[1], it[0].fs), items),
        ("quality (ecg_quality)", lambda it: ecg_quality(it[0].signal, it[0].fs, it[0].leads, peaks=it[2]), items),
        ("intervals, dsp", intervals("dsp"), items),
        ("intervals, hybrid (default)", intervals("auto"), items),
        ("network input (record_input)", lambda r: windows(record_input(r, spec), spec.samples, spec.stride),
         records),
        ("amplitudes (ecg_morphology)", morphology, measured),
        ("network (onnx runner)", run, inputs),
        ("stack features (beats, stats)", lambda it: analyzer.output.features(it[0][None], spec, it[1], it[2]),
         stack_items),
        ("stack (boosting, stacking, calib.)", lambda it: analyzer.output.probabilities(*it), stack_inputs),
        ("rhythm (ecg_rhythm)", lambda it: ecg_rhythm(it[1].clean, it[0].fs, it[0].leads, r_peaks=it[1].r_peaks,
                                                      delineation=it[1].intervals.delineation, raw=it[0].signal),
         measured),
        ("whole Analyzer.analyze_file", analyzer.analyze_file, paths),
    ]
    print(f"{len(paths)} PTB-XL records (10 s, 12 leads, 500 Hz) from {paths[0].parent.parent}; "
          f"model {bundle.path.name}; median CPU time per record on one core (time.process_time)")
    print(f"  {'stage':<40} {'ms':>7}")
    for name, fn, stage_items in stages:
        print(f"  {name:<40} {_median_ms(fn, stage_items):7.2f}", flush=True)
