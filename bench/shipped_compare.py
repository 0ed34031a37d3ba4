"""The shipped default against an earlier bundle on the same fold-9 records: what users see, before and after.

For each task, on fold 9 of ``ptbxl/`` (raw records through the whole ``Analyzer``) and of ``ptbxl-z100/`` (its
network inputs through the same reported-output step) together: macro-AUC of the reported probabilities of both
bundles with the paired-bootstrap 90% interval of the difference, the reported output's macro-AUC against its own
network's, the share of reported probabilities that are exactly 0 or 1, and macro ECE of the raw network and of
the reported output. Fold 9 is validation: the shipped model's epochs, stack, calibration and thresholds were chosen
on it, so its figures flatter it (the earlier bundle's too, on the records of fold 9 it was validated on).

Environment: ``CARDIOSCREEN_BENCH_BASELINE`` — the earlier bundle's folder (e.g. a ``git worktree`` of an earlier
commit's ``src/cardioscreen/data/model``); without it the shipped default is reported alone.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from bench.common import SHARED_DATA, single_core
from cardioscreen.evaluation.evaluate import network_scores, reported_scores
from cardioscreen.evaluation.sets import load_labelled
from cardioscreen.models.bundle import default_bundle_path, load_bundle
from cardioscreen.pipeline import Analyzer
from cardioscreen.training.metrics import bootstrap_ci, macro_auc, macro_ece

TASKS = ("seed17", "superdiagnostic")
FOLDERS = (SHARED_DATA / "ptbxl", SHARED_DATA / "ptbxl-z100")
N_BOOT = 1000


def _scores(path: Path, task: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Labels, mask, reported and network probabilities of ``task``'s outputs on fold 9 of both folders."""
    analyzer = Analyzer(load_bundle(path))
    cols = analyzer.bundle.task_columns(task)
    parts = []
    for folder in FOLDERS:
        labelled = load_labelled(folder, analyzer.bundle, task, folds=(9,))
        reported, _ = reported_scores(analyzer, labelled)
        parts.append((labelled.y, labelled.mask, reported[:, cols], network_scores(analyzer.bundle, labelled)[:, cols],
                      list(labelled.ids)))
    y, mask, reported, network = (np.concatenate([p[i] for p in parts]) for i in range(4))
    return y, mask, reported, network, [str(i) for p in parts for i in p[4]]


def _summary(name: str, y: np.ndarray, mask: np.ndarray, reported: np.ndarray, network: np.ndarray) -> None:
    ok = ~np.isnan(reported).any(axis=1)
    y, mask, reported, network = y[ok], mask[ok], reported[ok], network[ok]
    extreme = float(np.mean((reported == 0) | (reported == 1)))
    print(f"  {name}: {len(y)} records analysed ({int((~ok).sum())} refused); reported macro-AUC "
          f"{macro_auc(y, reported, mask):.3f} vs its network's {macro_auc(y, network, mask):.3f}; exactly 0 or 1: "
          f"{100 * extreme:.2f} %; macro ECE network {macro_ece(y, network, mask):.3f} -> reported "
          f"{macro_ece(y, reported, mask):.3f}")


def main() -> None:
    single_core()
    baseline = os.environ.get("CARDIOSCREEN_BENCH_BASELINE")
    for task in TASKS:
        print(f"\n{task}, fold 9 of ptbxl + ptbxl-z100 (validation):")
        y, mask, new, new_net, ids = _scores(default_bundle_path(), task)
        _summary("shipped default", y, mask, new, new_net)
        if not baseline:
            continue
        y_old, mask_old, old, old_net, ids_old = _scores(Path(baseline), task)
        _summary(f"baseline {baseline}", y_old, mask_old, old, old_net)
        common = [i for i, rid in enumerate(ids) if rid in set(ids_old)]
        where = {rid: i for i, rid in enumerate(ids_old)}
        rows_old = np.array([where[ids[i]] for i in common])
        a, b, yy, mm = new[common], old[rows_old], y[common], mask[common] & mask_old[rows_old]
        ok = ~(np.isnan(a).any(axis=1) | np.isnan(b).any(axis=1))
        a, b, yy, mm = a[ok], b[ok], yy[ok], mm[ok]

        def diff(rows: np.ndarray, a: np.ndarray = a, b: np.ndarray = b, yy: np.ndarray = yy,
                 mm: np.ndarray = mm) -> float:
            return macro_auc(yy[rows], a[rows], mm[rows]) - macro_auc(yy[rows], b[rows], mm[rows])

        low, high = bootstrap_ci(diff, len(yy), n_boot=N_BOOT)
        print(f"  reported macro-AUC, shipped - baseline, on the same {len(yy)} records: "
              f"{diff(np.arange(len(yy))):+.3f} [{low:+.3f}, {high:+.3f}] (paired bootstrap, 90%)")
