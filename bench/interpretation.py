"""Measurement statements against the PTB-XL cardiologists' labels on fold 9, beside the shipped network's flags.

For every raw 500 Hz record of fold 9 in ``../shared/data/ptbxl`` (the validation fold: the model and its thresholds
were chosen on it, so the network's figures here are not held-out), ``measure_record`` + ``interpret`` (without
the network's predictions, with the record's sex and age) give the measurement statements, and
``Analyzer.analyze`` the network's flags. Per statement (1AVB, CRBBB, CLBBB, IRBBB, LAFB, LVH, IVCD): sensitivity
and specificity of each against "the code is in the record's ``scp_codes``" (any likelihood, as the model's
labels), with 90 % record-bootstrap intervals. Also: how often a record labelled NORM gets "Normal ECG" or
"Otherwise normal ECG", and the statements most often made on them.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

import numpy as np

from bench.common import SHARED_DATA, single_core
from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.interpret import interpret
from cardioscreen.io import read_ecg
from cardioscreen.pipeline import Analyzer
from cardioscreen.signal.measure import measure_record
from cardioscreen.training.metrics import bootstrap_ci

CODES = ("1AVB", "CRBBB", "CLBBB", "IRBBB", "LAFB", "LVH", "IVCD")
FOLD = 9
SEX = {0: "M", 1: "F"}
"""PTB-XL's ``sex`` column: 0 male, 1 female."""


def _rate(hit: np.ndarray, among: np.ndarray) -> Callable[[np.ndarray], float]:
    """``statistic(rows)``: the fraction of ``hit`` among the ``among`` records of ``rows`` (NaN without any)."""
    def statistic(rows: np.ndarray) -> float:
        n = among[rows].sum()
        return float((hit[rows] & among[rows]).sum() / n) if n else float("nan")
    return statistic


def _cell(hit: np.ndarray, among: np.ndarray) -> str:
    value = _rate(hit, among)(np.arange(hit.size))
    low, high = bootstrap_ci(_rate(hit, among), hit.size)
    return f"{value:5.2f} [{low:.2f}, {high:.2f}]"


def main() -> None:
    single_core()
    logging.getLogger("cardioscreen").setLevel(logging.ERROR)
    data = PTBXL.load(SHARED_DATA / "ptbxl").in_folds([FOLD])
    analyzer = Analyzer.load()
    labels, stated, flagged, summaries = [], [], [], []
    start = time.process_time()
    for ecg_id in data.ecg_ids:
        row = data.meta.loc[ecg_id]
        record = read_ecg(data.record_path(int(ecg_id), 500).with_suffix(".hea"), standard12=True)
        measured = measure_record(record)
        sex = SEX.get(int(row["sex"])) if np.isfinite(row["sex"]) else None
        age = float(row["age"]) if np.isfinite(row["age"]) else None
        it = interpret(None, measured.intervals, measured.morphology, (), sex=sex, age=age)
        result = analyzer.analyze(record, record_id=str(ecg_id))
        labels.append(set(row["scp_codes"]))
        stated.append({s.code for s in it.statements})
        flagged.append({p.code for p in result.predictions if p.task == "seed17" and p.flagged})
        summaries.append(it.summary)
    seconds = (time.process_time() - start) / len(labels)
    print(f"PTB-XL fold {FOLD} (validation): {len(labels)} raw 500 Hz records from {SHARED_DATA / 'ptbxl'}; "
          f"{seconds:.2f} CPU-s per record (measurement, interpretation and the Analyzer)")
    print("Sensitivity / specificity [90 % bootstrap interval] against scp_codes; network: the shipped bundle's "
          "seed17 flags at its thresholds (chosen on this fold)")
    print(f"  {'code':<6} {'pos':>4}   {'measurement sens':<20} {'measurement spec':<20} "
          f"{'network sens':<20} {'network spec':<20}")
    for code in CODES:
        truth = np.array([code in s for s in labels])
        ours, theirs = np.array([code in s for s in stated]), np.array([code in s for s in flagged])
        print(f"  {code:<6} {int(truth.sum()):4d}   {_cell(ours, truth):<20} {_cell(~ours, ~truth):<20} "
              f"{_cell(theirs, truth):<20} {_cell(~theirs, ~truth):<20}")
    normal = np.array(["NORM" in s for s in labels])
    closes = np.array([s.endswith(("Normal ECG.", "Otherwise normal ECG.")) for s in summaries])
    print(f"  NORM records whose summary is 'Normal ECG' or 'Otherwise normal ECG': {_cell(closes, normal)} "
          f"(n = {int(normal.sum())})")
    common = Counter(c for s, n in zip(stated, normal, strict=True) if n for c in s).most_common(6)
    print("  statements most often made on NORM records: " + ", ".join(f"{c} {k}" for c, k in common))
