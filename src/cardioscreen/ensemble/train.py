"""Fit the ensemble of a bundle: boosting on training records, stacking/calibration/thresholds on validation.

Protocol (patient-wise PTB-XL folds: train 1-8, validation 9):

1. the bundle's network gives probabilities and embeddings for every record; hand-made features are added, and
   the clinical measurements of :mod:`cardioscreen.ensemble.measurements` (NaN for ptbxl-z100 records);
2. :class:`~cardioscreen.ensemble.boosting.SubspaceBoosting` is fitted on the training records;
3. on the validation records, the stacker and the calibrators are cross-fitted (``n_splits`` folds) to measure
   the network alone and the ensemble honestly: macro-AUC with 90 % bootstrap intervals (and a paired interval
   of the difference), ECE before and after calibration per class;
4. the final stacker, calibrators and thresholds are fitted on all validation records; per task, the ensemble
   becomes that task's default output only if the paired 90 % interval of its cross-fitted macro-AUC gain over the
   network on the task's classes lies above zero; per class, the two AUCs and the paired interval of their
   difference are reported;
5. each class is assessed (:mod:`cardioscreen.ensemble.assessment`) on the default output's honest validation
   scores (the network's own, or the cross-fitted stack).

Calibration is fitted on fold 9 only: the network was trained on folds 1-8, so its scores there are in-sample and
overconfident, while fold 9 (about 480 records with ptbxl-z100's validation split) is the only set it never saw.
Cross-fitting on fold 9 measures what the map does to records it was not fitted on; the shipped map is then
fitted on all of fold 9, which needs only two (Platt) or three (beta) numbers per class.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.ensemble.assessment import assess_classes, training_positives
from cardioscreen.ensemble.boosting import SubspaceBoosting
from cardioscreen.ensemble.calibration import REPORTED_RANGE, PerClassCalibrator
from cardioscreen.ensemble.inputs import network_outputs, record_feature_matrix
from cardioscreen.ensemble.measurements import measured_r_peaks, measurement_matrix, measurement_names
from cardioscreen.ensemble.persist import OUTPUTS, EnsembleModel
from cardioscreen.ensemble.stacking import Stacker, cross_fit_predict
from cardioscreen.ensemble.thresholds import DEFAULT_MIN_SENSITIVITY, fit_thresholds
from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import Bundle, load_bundle
from cardioscreen.training.data import TaskData, load_training_data
from cardioscreen.training.metrics import bootstrap_ci, class_aucs, class_eces, macro_auc, macro_ece

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class EnsembleConfig:
    """Settings of :func:`fit_ensemble`."""

    n_models: int = 5
    feature_fraction: float = 0.5
    iterations: int = 300
    depth: int = 4
    learning_rate: float = 0.05
    calibration: str = "platt"
    threshold_objective: str = "f1"
    min_sensitivity: float = DEFAULT_MIN_SENSITIVITY
    n_splits: int = 5
    n_boot: int = 1000
    thread_count: int = 1
    max_records: int | None = None
    measurements: bool = True
    random_state: int = 0

    def __post_init__(self) -> None:
        if self.n_splits < 2 or self.n_boot < 1 or self.n_models < 1 or self.iterations < 1:
            raise CardioScreenError("ensemble config needs n_splits >= 2 and positive n_boot, n_models, iterations")


@dataclass(frozen=True)
class _Split:
    probs: np.ndarray
    inputs: np.ndarray
    y: np.ndarray
    mask: np.ndarray


def _columns(bundle: Bundle, data: TaskData) -> np.ndarray:
    """Column of ``data`` for each bundle label (the bundle's order)."""
    index = {(label.code, label.task): j for j, label in enumerate(data.labels)}
    missing = [label.code for label in bundle.labels if (label.code, label.task) not in index]
    if missing:
        raise CardioScreenError(f"the data have no labels for bundle classes {missing}")
    return np.array([index[(label.code, label.task)] for label in bundle.labels], dtype=np.int64)


def _split(bundle: Bundle, data: TaskData, columns: np.ndarray, measurements: np.ndarray,
           r_peaks: Sequence[np.ndarray | None] | None) -> tuple[_Split, list[str], int]:
    spec = bundle.input_spec
    probs, emb = network_outputs(bundle, data.x)
    feats, names = record_feature_matrix(data.x, spec.fs, spec.leads, r_peaks=r_peaks)
    split = _Split(probs, np.hstack([emb, feats, measurements]), data.y[:, columns], data.mask[:, columns])
    return split, names, emb.shape[1]


def _auc_with_ci(y: np.ndarray, s: np.ndarray, m: np.ndarray, n_boot: int, seed: int) -> dict[str, Any]:
    return {"macro_auc": macro_auc(y, s, m),
            "macro_auc_ci": list(bootstrap_ci(lambda r: macro_auc(y[r], s[r], m[r]), len(y), n_boot=n_boot,
                                              seed=seed))}


def compare_outputs(Y: np.ndarray, mask: np.ndarray, network: np.ndarray, ensemble: np.ndarray, cols: np.ndarray,
                    cfg: EnsembleConfig) -> dict[str, Any]:
    """Macro-AUC over classes ``cols`` of the network and the stack (each ``(n, C)`` scores of records with labels
    ``Y`` ``(n, C)``, known where ``mask``) with 90 % bootstrap intervals, their difference with its paired
    interval (the same resampled records for both), raw ECE of both, and the record count."""
    y, m = Y[:, cols], mask[:, cols]
    a, b = network[:, cols], ensemble[:, cols]

    def diff(rows: np.ndarray) -> float:
        return macro_auc(y[rows], b[rows], m[rows]) - macro_auc(y[rows], a[rows], m[rows])

    return {
        "network": _auc_with_ci(y, a, m, cfg.n_boot, cfg.random_state),
        "ensemble": _auc_with_ci(y, b, m, cfg.n_boot, cfg.random_state),
        "difference": diff(np.arange(len(y))),
        "difference_ci": list(bootstrap_ci(diff, len(y), n_boot=cfg.n_boot, seed=cfg.random_state)),
        "ece_network_raw": macro_ece(y, a, m),
        "ece_ensemble_raw": macro_ece(y, b, m),
        "n_records": int(len(y)),
    }


def default_of(figure: dict[str, Any]) -> str:
    """``"ensemble"`` where the paired 90 % interval of the stack's macro-AUC gain in ``figure``
    (:func:`compare_outputs`) lies above zero, else ``"network"``."""
    return "ensemble" if figure["difference_ci"][0] > 0 else "network"


def _class_compare(bundle: Bundle, val: _Split, network: np.ndarray, ensemble: np.ndarray, cols: np.ndarray,
                   cfg: EnsembleConfig) -> dict[str, dict[str, Any]]:
    """Per class of ``cols``: fold-9 positives, network and (cross-fitted) stack AUC, their difference and its
    paired 90 % bootstrap interval (the same resampled records for both)."""
    out = {}
    for c in cols:
        y, m = val.y[:, c], val.mask[:, c]
        a, b = network[:, c], ensemble[:, c]

        def diff(rows: np.ndarray, y: np.ndarray = y, m: np.ndarray = m, a: np.ndarray = a, b: np.ndarray = b
                 ) -> float:
            r = rows[m[rows]]
            return float(class_aucs(y[r, None], b[r, None])[0] - class_aucs(y[r, None], a[r, None])[0])

        net, ens = (float(class_aucs(y[m, None], s[m, None])[0]) for s in (a, b))
        out[bundle.labels[c].code] = {
            "positives": int((y[m] > 0.5).sum()), "network_auc": net, "ensemble_auc": ens,
            "difference": ens - net,
            "difference_ci": list(bootstrap_ci(diff, len(y), n_boot=cfg.n_boot, seed=cfg.random_state)),
        }
    return out


def _calibrated_oof(P: np.ndarray, val: _Split, cfg: EnsembleConfig) -> np.ndarray:
    def fit_on(rows: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        cal = PerClassCalibrator(cfg.calibration).fit(P[rows], val.y[rows], val.mask[rows])
        return lambda test: cal.transform(P[test])

    return cross_fit_predict(fit_on, len(P), cfg.n_splits, cfg.random_state)


def exact_01_share(P: np.ndarray, decimals: int = 3) -> float:
    """Share of probabilities shown as exactly 0 or 1 at ``decimals`` decimals (3: one decimal of a percent)."""
    shown = np.round(np.asarray(P, dtype=np.float64), decimals)
    return float(np.mean((shown <= 0) | (shown >= 1)))


def _reported_figures(bundle: Bundle, val: _Split, honest: np.ndarray, raw_cal: np.ndarray, final: np.ndarray,
                      reported: np.ndarray, cols: np.ndarray) -> dict[str, Any]:
    """Per task, for the default output: macro-AUC of the reported probabilities beside that of the same output
    before calibration (``final``; equal but for ties at the reported clip) and the network's, their exact-0/1
    share, and per class the ECE of the honest scores before and after (cross-fitted) calibration."""
    y, m = val.y[:, cols], val.mask[:, cols]
    before, after = class_eces(y, honest[:, cols], m), class_eces(y, raw_cal[:, cols], m)
    return {
        "network_macro_auc": macro_auc(y, val.probs[:, cols], m),
        "uncalibrated_macro_auc": macro_auc(y, final[:, cols], m),
        "reported_macro_auc": macro_auc(y, reported[:, cols], m),
        "exact_01_share": exact_01_share(reported[:, cols]),
        "ece_before": float(np.nanmean(before)), "ece_after": float(np.nanmean(after)),
        "per_class": {bundle.labels[c].code: {
            "positives": int(((y[:, k] > 0.5) & m[:, k]).sum()),
            "network_auc": float(class_aucs(y, val.probs[:, cols], m)[k]),
            "reported_auc": float(class_aucs(y, reported[:, cols], m)[k]),
            "ece_before": float(before[k]), "ece_after": float(after[k]),
        } for k, c in enumerate(cols)},
    }


def fit_ensemble_on(bundle: Bundle, data: TaskData, config: EnsembleConfig | None = None,
                    measurements: np.ndarray | None = None,
                    r_peaks: Sequence[np.ndarray | None] | None = None) -> EnsembleModel:
    """Fit the ensemble of ``bundle`` on ``data`` (its ``"train"`` and ``"val"`` records); see the module doc.

    ``measurements`` ``(len(data), M)``: the records' rows of
    :func:`~cardioscreen.ensemble.measurements.measurement_matrix` (NaN where not measured), given to the
    boosting after the features; None fits without measurements. ``r_peaks``: each record's measured R-peaks at
    the network input's rate (:func:`~cardioscreen.ensemble.measurements.measured_r_peaks`; None, or None for a
    record: found on its network input), which the hand-made features' beats are cut around.
    """
    cfg = config or EnsembleConfig()
    columns = _columns(bundle, data)
    meas_names = [] if measurements is None else measurement_names()
    if measurements is None:
        measurements = np.zeros((len(data), 0))
    if measurements.shape != (len(data), len(meas_names)):
        raise CardioScreenError(f"measurements of shape {measurements.shape} for {len(data)} records and "
                                f"{len(meas_names)} measurement columns")
    peaks = [None] * len(data) if r_peaks is None else list(r_peaks)
    train, names, emb_dim = _split(bundle, data.in_split("train"), columns, measurements[data.split == "train"],
                                   [peaks[i] for i in np.flatnonzero(data.split == "train")])
    val, _, _ = _split(bundle, data.in_split("val"), columns, measurements[data.split == "val"],
                       [peaks[i] for i in np.flatnonzero(data.split == "val")])
    if len(val.y) < cfg.n_splits:
        raise CardioScreenError(f"{len(val.y)} validation records; at least n_splits={cfg.n_splits} are needed")
    logger.info("ensemble: %d training, %d validation records, %d inputs", len(train.y), len(val.y),
                train.inputs.shape[1])
    boosting = SubspaceBoosting(cfg.n_models, cfg.feature_fraction, cfg.iterations, cfg.depth, cfg.learning_rate,
                                thread_count=cfg.thread_count, random_state=cfg.random_state)
    boosting.fit(train.inputs, train.y, train.mask)
    bases = [val.probs, boosting.predict_proba(val.inputs)]

    def stack_on(rows: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
        stacker = Stacker().fit([b[rows] for b in bases], val.y[rows], val.mask[rows])
        return lambda test: stacker.predict_proba([b[test] for b in bases])

    honest = {"network": val.probs, "ensemble": cross_fit_predict(stack_on, len(val.y), cfg.n_splits,
                                                                  cfg.random_state)}
    calibrated_oof = {k: _calibrated_oof(P, val, cfg) for k, P in honest.items()}
    overall = compare_outputs(val.y, val.mask, honest["network"], honest["ensemble"], np.arange(val.y.shape[1]),
                              cfg)
    figures = {task: compare_outputs(val.y, val.mask, honest["network"], honest["ensemble"],
                                     bundle.task_columns(task), cfg) for task in bundle.tasks}
    # per task: the stack only where the paired 90 % interval of its gain lies above zero
    defaults = {task: default_of(fig) for task, fig in figures.items()}

    stacker = Stacker().fit(bases, val.y, val.mask)
    finals = {"network": val.probs, "ensemble": stacker.predict_proba(bases)}
    calibrators = {k: PerClassCalibrator(cfg.calibration).fit(P, val.y, val.mask) for k, P in finals.items()}
    reported = {k: calibrators[k].transform(P) for k, P in finals.items()}
    thresholds = {k: fit_thresholds(val.y, reported[k], val.mask, cfg.threshold_objective, cfg.min_sensitivity)
                  for k in OUTPUTS}
    positives = training_positives(bundle.manifest, data.in_split("train").y[:, columns],
                                   data.in_split("train").mask[:, columns])
    # the ranking of an output's reported probabilities is that of its honest scores (strictly increasing maps)
    assessment = {k: assess_classes(bundle.labels, positives, val.y, honest[k], val.mask, n_boot=cfg.n_boot,
                                    seed=cfg.random_state) for k in OUTPUTS}

    report: dict[str, Any] = {"tasks": {}, "calibration": cfg.calibration, "reported_range": list(REPORTED_RANGE),
                              "thresholds": {"objective": cfg.threshold_objective,
                                             "min_sensitivity": cfg.min_sensitivity},
                              "measurements": len(meas_names)}
    for task, fig in figures.items():
        cols, default = bundle.task_columns(task), defaults[task]
        for k in OUTPUTS:
            fig[f"ece_{k}_calibrated"] = macro_ece(val.y[:, cols], calibrated_oof[k][:, cols], val.mask[:, cols])
        fig["default"] = default
        fig["per_class"] = _class_compare(bundle, val, honest["network"], honest["ensemble"], cols, cfg)
        fig["reported"] = _reported_figures(bundle, val, honest[default], calibrated_oof[default], finals[default],
                                            reported[default], cols)
        report["tasks"][task] = fig
    model = EnsembleModel(boosting, stacker, calibrators, thresholds, assessment, defaults,
                          tuple(label.task for label in bundle.labels), names, emb_dim, meas_names, report)
    report["all"] = overall
    report["default"] = model.default
    report["not_assessed"] = {f"{c.code} ({c.task})": c.reason for c in model.assessment_for() if not c.assessed}
    return model


def fit_ensemble(
    bundle_path: Path, data_dir: Path, extra_dirs: Sequence[Path] = (), config: EnsembleConfig | None = None,
    cache_dir: Path | None = None,
) -> EnsembleModel:
    """Load the bundle and the records of ``data_dir`` (+ ``extra_dirs``), measure them (once per folder, see
    :func:`~cardioscreen.ensemble.measurements.ptbxl_measurements`; unless ``config.measurements`` is False) and
    fit its ensemble."""
    cfg = config or EnsembleConfig()
    bundle = load_bundle(bundle_path)
    folders = (Path(data_dir), *map(Path, extra_dirs))
    data = load_training_data(folders[0], bundle.tasks, extra_dirs=folders[1:],
                              recipe=bundle.input_spec.recipe, cache_dir=cache_dir, max_records=cfg.max_records,
                              seed=cfg.random_state)
    measurements = measurement_matrix(data, folders, cache_dir) if cfg.measurements else None
    r_peaks = measured_r_peaks(data, folders, bundle.input_spec.fs)
    return fit_ensemble_on(bundle, data, cfg, measurements, r_peaks)
