"""Two bundles on the same labelled records: per-class and macro AUC of each, and the paired-bootstrap interval of
the macro-AUC difference (the same resampled records for both), as ``models compare`` prints and ``promote``
checks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.ensemble.train import EnsembleConfig, compare_outputs
from cardioscreen.errors import CardioScreenError
from cardioscreen.evaluation.evaluate import reported_scores
from cardioscreen.evaluation.sets import load_labelled
from cardioscreen.pipeline import Analyzer, AnalyzerConfig
from cardioscreen.training.metrics import class_aucs

DEFAULT_MARGIN = 0.01
"""Macro-AUC a candidate may lose against the active model on the reference set and still be promoted."""


def compare_bundles(a: Path, b: Path, data_dir: Path, *, tasks: Sequence[str] | None = None,
                    folds: Sequence[int] = (9,), n_boot: int = 1000, cache_dir: Path | None = None,
                    ) -> dict[str, dict[str, Any]]:
    """Reported outputs of bundles ``a`` and ``b`` (each through its own :class:`~cardioscreen.pipeline.Analyzer`,
    as users get them) on the labelled records of ``data_dir`` in ``folds``, per task.

    Returns
    -------
    dict
        Per task: ``n_records`` (analysed by both), ``per_class`` (``{code: {positives, auc_a, auc_b}}``),
        ``macro_auc_a``/``_b`` with ``_ci`` (90 %), ``difference`` (b - a) with its paired ``difference_ci``.
    """
    first, second = (Analyzer.load(path, AnalyzerConfig()) for path in (a, b))
    if first.bundle.labels != second.bundle.labels:
        raise CardioScreenError(f"{a} and {b} predict different classes; only bundles of one label set compare")
    out: dict[str, dict[str, Any]] = {}
    for task in tasks or first.bundle.tasks:
        cols = first.bundle.task_columns(task)
        labelled = load_labelled(data_dir, first.bundle, task, folds, cache_dir)
        score_a, score_b = (reported_scores(analyzer, labelled)[0][:, cols] for analyzer in (first, second))
        ok = np.isfinite(score_a).all(axis=1) & np.isfinite(score_b).all(axis=1)
        y, mask, score_a, score_b = labelled.y[ok], labelled.mask[ok], score_a[ok], score_b[ok]
        every = np.arange(len(cols))
        paired = compare_outputs(y, mask, score_a, score_b, every, EnsembleConfig(n_boot=n_boot))
        auc_a, auc_b = class_aucs(y, score_a, mask), class_aucs(y, score_b, mask)
        out[task] = {
            "n_records": int(ok.sum()),
            "per_class": {first.bundle.labels[c].code: {
                "positives": int(((y[:, j] > 0.5) & mask[:, j]).sum()), "auc_a": float(auc_a[j]),
                "auc_b": float(auc_b[j])} for j, c in enumerate(cols)},
            "macro_auc_a": paired["network"]["macro_auc"], "macro_auc_a_ci": paired["network"]["macro_auc_ci"],
            "macro_auc_b": paired["ensemble"]["macro_auc"], "macro_auc_b_ci": paired["ensemble"]["macro_auc_ci"],
            "difference": paired["difference"], "difference_ci": paired["difference_ci"],
        }
    return out


def worse_tasks(comparison: dict[str, dict[str, Any]], margin: float = DEFAULT_MARGIN) -> list[str]:
    """Tasks on which the second bundle's macro-AUC is below the first's by more than ``margin`` (a NaN
    difference, where a task could not be scored, counts as worse)."""
    return [task for task, figures in comparison.items()
            if not np.isfinite(figures["difference"]) or figures["difference"] < -margin]
