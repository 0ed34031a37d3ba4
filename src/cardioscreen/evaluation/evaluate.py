"""Score a bundle on labelled records as users see it, and the figures: AUC, ECE, sensitivity, specificity.

``output="reported"`` (the default) scores what the Analyzer reports: raw records (PTB-XL, challenge folders) go
through :meth:`cardioscreen.pipeline.Analyzer.analyze` itself, one file at a time (so quality refusals, unusable
leads left out, calibration, stacking, thresholds and unassessed classes are all as a user gets them; refused
records are counted and left out of the figures); ptbxl-z100 holds only network inputs, which go through the
Analyzer's own :class:`~cardioscreen.ensemble.reported.ReportedOutput`. ``output="network"`` scores the raw
network probabilities at the bundle's own thresholds.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from cardioscreen.ensemble.inputs import network_outputs
from cardioscreen.errors import CardioScreenError
from cardioscreen.evaluation.sets import LabelledSet, load_labelled
from cardioscreen.models.bundle import Bundle
from cardioscreen.pipeline import Analyzer, AnalyzerConfig
from cardioscreen.training.evaluate import PRIOR_KEY
from cardioscreen.training.inference import predict_inputs, predict_record
from cardioscreen.training.metrics import class_figures, evaluate_scores, macro_ece

logger = logging.getLogger(__name__)

OUTPUTS = ("reported", "network")
"""What ``evaluate`` can score: the reported output (default) or the raw network."""


def reported_scores(analyzer: Analyzer, labelled: LabelledSet) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Reported probabilities ``(n, labels)`` of the analyzer's bundle (NaN rows for refused records) and the
    refused records as ``(id, reason)``."""
    n_labels = len(analyzer.bundle.labels)
    if labelled.read is None:
        assert labelled.inputs is not None
        bundle, x = analyzer.bundle, labelled.inputs()
        probs, embeddings = network_outputs(bundle, x)
        # z-scored network inputs: no millivolts, so no measurements (NaN)
        features = analyzer.output.features(x, bundle.input_spec, None)
        return analyzer.output.probabilities(probs, embeddings, features), []
    out = np.full((len(labelled), n_labels), np.nan)
    refused = []
    for i in tqdm(range(len(labelled)), desc="analyse", leave=False):
        result = analyzer.analyze(labelled.read(i), record_id=str(labelled.ids[i]))
        if result.refusal is not None:
            refused.append((str(labelled.ids[i]), result.refusal))
        else:
            out[i] = [p.probability for p in result.predictions]
    return out, refused


def network_scores(bundle: Bundle, labelled: LabelledSet) -> np.ndarray:
    """Raw network probabilities ``(n, labels)``."""
    if labelled.inputs is not None:
        return predict_inputs(bundle, labelled.inputs())
    assert labelled.read is not None
    return np.stack([predict_record(bundle, labelled.read(i)) for i in range(len(labelled))])


def _figures(y: np.ndarray, scores: np.ndarray, mask: np.ndarray, thresholds: np.ndarray, classes: Sequence[str],
             assessed: np.ndarray, n_boot: int) -> dict[str, Any]:
    """Macro figures (as :func:`~cardioscreen.training.metrics.evaluate_scores`) and per-class figures with
    90 % intervals; ``thresholds`` are +inf for classes that are never flagged."""
    out = evaluate_scores(y, scores, classes, thresholds, mask, n_boot=n_boot)
    per_class = class_figures(y, scores, thresholds, mask, n_boot=n_boot)
    evaluated = out["classes_evaluated"]
    aucs = [per_class["auc"][j] for j, c in enumerate(classes) if c in evaluated and assessed[j]]
    out.update(
        macro_auc_assessed=float(np.mean(aucs)) if aucs else float("nan"),
        macro_ece=macro_ece(y, scores, mask),
        exact_01_share=float(np.mean((np.round(scores, 3) <= 0) | (np.round(scores, 3) >= 1))),
        per_class={c: {
            "positives": int(per_class["positives"][j]), "assessed": bool(assessed[j]),
            "threshold": float(thresholds[j]) if assessed[j] else None,
            **{key: float(per_class[key][j]) for key in ("auc", "ece", "sensitivity", "specificity")},
            **{f"{key}_ci": [float(v) for v in per_class[f"{key}_ci"][j]]
               for key in ("auc", "ece", "sensitivity", "specificity")},
        } for j, c in enumerate(classes)},
    )
    out["thresholds"] = {c: t for c, t in out["thresholds"].items() if np.isfinite(t)}
    return out


def evaluate_bundle(
    data_dir: Path,
    bundle_path: Path | None = None,
    *,
    task: str = "seed17",
    folds: Sequence[int] = (9,),
    output: str = "reported",
    n_boot: int = 1000,
    cache_dir: Path | None = None,
    backend: str = "onnx",
) -> dict[str, Any]:
    """Figures of the bundle at ``bundle_path`` (default: the shipped one) on ``task`` for the labelled records of
    ``data_dir`` (:func:`~cardioscreen.evaluation.sets.load_labelled`), with 90 % bootstrap intervals, the
    class-prior baseline, and per source (hospital) where the records have several."""
    if output not in OUTPUTS:
        raise CardioScreenError(f"unknown output {output!r}; choose one of {', '.join(OUTPUTS)}")
    analyzer = Analyzer.load(bundle_path, AnalyzerConfig(backend=backend))
    bundle = analyzer.bundle
    cols = bundle.task_columns(task)
    labelled = load_labelled(data_dir, bundle, task, folds, cache_dir)
    refused: list[tuple[str, str]] = []
    if output == "reported":
        scores, refused = reported_scores(analyzer, labelled)
        thresholds = np.where(analyzer.output.assessed, analyzer.output.thresholds, np.inf)[cols]
        assessed = analyzer.output.assessed[cols]
        name = f"reported ({analyzer.output.name})"
    else:
        scores, thresholds = network_scores(bundle, labelled), bundle.thresholds[cols]
        assessed, name = np.ones(len(cols), dtype=bool), "network (raw)"
    ok = np.isfinite(scores).all(axis=1)
    y, mask, s = labelled.y[ok], labelled.mask[ok], scores[ok][:, cols]
    classes = [bundle.labels[c].code for c in cols]
    out = _figures(y, s, mask, thresholds, classes, assessed, n_boot)
    sources = labelled.sources[ok]
    if len(set(sources)) > 1:
        out["by_source"] = {src: _figures(y[sources == src], s[sources == src], mask[sources == src], thresholds,
                                          classes, assessed, n_boot) for src in sorted(set(sources))}
    prior = bundle.manifest.get("training", {}).get(PRIOR_KEY)
    if prior is not None:
        constant = np.broadcast_to(np.asarray(prior, dtype=np.float64)[cols], y.shape).copy()
        base = evaluate_scores(y, constant, classes, constant[0], mask, n_boot=n_boot)
        out["baseline"] = {k: base[k] for k in ("macro_auc", "macro_f1", "macro_f1_ci")}
    out.update(task=task, folds=list(folds), data=str(data_dir), model=str(bundle.path), output=name,
               layout=labelled.layout, n_refused=len(refused),
               refused=[{"record": r, "reason": why} for r, why in refused])
    return out
