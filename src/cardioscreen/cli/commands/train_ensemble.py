"""``cardioscreen train-ensemble``: add boosting, stacking, calibration and thresholds to a model bundle."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from cardioscreen.ensemble.calibration import CALIBRATIONS
from cardioscreen.ensemble.persist import save_ensemble
from cardioscreen.ensemble.thresholds import DEFAULT_MIN_SENSITIVITY, OBJECTIVES
from cardioscreen.ensemble.train import EnsembleConfig, fit_ensemble


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-ensemble",
        help="add the CatBoost/stacking/calibration ensemble to a bundle",
        description="Fit CatBoost models on random subsets of [network embedding, time/frequency and rhythm "
        "features, clinical measurements (intervals, axes, per-lead amplitudes, ST, voltage indices; measured once "
        "per PTB-XL folder on its raw mV and cached, NaN for ptbxl-z100)] "
        "on strat_fold 1-8, stack them with the network's probabilities, calibrate per class with a "
        "strictly increasing map and tune thresholds on fold 9 (validation; cross-fitted there to report macro-AUC "
        "with 90%% intervals and ECE before/after calibration), and mark the classes the model cannot assess. "
        "Writes BUNDLE/ensemble; per task, the ensemble is the default output only if its paired 90%% interval of "
        "macro-AUC gain over the network on that task's classes lies above zero.",
    )
    parser.add_argument("--data", type=Path, required=True, help="PTB-XL folder (official layout)")
    parser.add_argument("--model", type=Path, required=True, help="bundle directory to extend")
    parser.add_argument("--extra-data", type=Path, action="append", default=[], help="more folders (ptbxl-z100)")
    parser.add_argument("--n-models", type=int, default=5, help="CatBoost models per class")
    parser.add_argument("--feature-fraction", type=float, default=0.5, help="fraction of inputs per model")
    parser.add_argument("--iterations", type=int, default=300, help="CatBoost iterations")
    parser.add_argument("--calibration", choices=tuple(CALIBRATIONS), default="platt",
                        help="strictly increasing calibration map per class")
    parser.add_argument("--thresholds", choices=tuple(OBJECTIVES), default="f1", help="threshold objective")
    parser.add_argument("--min-sensitivity", type=float, default=DEFAULT_MIN_SENSITIVITY,
                        help="sensitivity floor of every threshold on fold 9")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--max-records", type=int, default=None, help="at most this many records per split/folder")
    parser.add_argument("--threads", type=int, default=1, help="CatBoost threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=None, help="signal and measurement cache folder")
    parser.add_argument("--no-measurements", dest="measurements", action="store_false",
                        help="leave the clinical measurements out of the boosting inputs")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def _fmt(figure: dict[str, Any]) -> str:
    low, high = figure["macro_auc_ci"]
    return f"{figure['macro_auc']:.3f} [{low:.3f}, {high:.3f}]"


def print_report(report: dict[str, Any]) -> None:
    """One line per task: network and ensemble fold-9 macro-AUC (90% CI), their difference, ECE raw/calibrated;
    then the reported output's macro-AUC beside the network's, its exact-0/1 share, and the classes not
    assessed."""
    print(f"{'task':16s} {'network AUC (90% CI)':>24s} {'ensemble AUC (90% CI)':>24s} {'diff (90% CI)':>24s} "
          f"{'ECE net raw/cal':>16s} {'ECE ens raw/cal':>16s}")
    for task, fig in report["tasks"].items():
        d_low, d_high = fig["difference_ci"]
        diff = f"{fig['difference']:+.3f} [{d_low:+.3f}, {d_high:+.3f}]"
        ece_net = f"{fig['ece_network_raw']:.3f}/{fig['ece_network_calibrated']:.3f}"
        ece_ens = f"{fig['ece_ensemble_raw']:.3f}/{fig['ece_ensemble_calibrated']:.3f}"
        print(f"{task:16s} {_fmt(fig['network']):>24s} {_fmt(fig['ensemble']):>24s} {diff:>24s} "
              f"{ece_net:>16s} {ece_ens:>16s}")
    print(f"default output: {report['default']} (fold-9 records: {report['all']['n_records']}; "
          f"{report.get('measurements', 0)} measurement columns)")
    print_class_comparison(report)
    for task, fig in report["tasks"].items():
        rep = fig["reported"]
        print(f"{task}: reported macro-AUC {rep['reported_macro_auc']:.4f} (before calibration "
              f"{rep['uncalibrated_macro_auc']:.4f}, network {rep['network_macro_auc']:.4f}; in-sample), exact 0/1 "
              f"share {rep['exact_01_share']:.2%}, ECE {rep['ece_before']:.4f} -> {rep['ece_after']:.4f}")
    for name, reason in report["not_assessed"].items():
        print(f"not assessed: {name}: {reason}")


def print_class_comparison(report: dict[str, Any]) -> None:
    """Per task and class: fold-9 positives, network and (cross-fitted) stack AUC, and the paired 90 % interval
    of the difference; the task's default output."""
    for task, fig in report["tasks"].items():
        print(f"{task} (default: {fig['default']})")
        print(f"  {'class':8s} {'pos':>4s} {'network':>8s} {'stack':>8s} {'diff (90% CI)':>26s}")
        for code, c in fig["per_class"].items():
            low, high = c["difference_ci"]
            print(f"  {code:8s} {c['positives']:4d} {c['network_auc']:8.3f} {c['ensemble_auc']:8.3f} "
                  f"{c['difference']:+8.3f} [{low:+.3f}, {high:+.3f}]")


def _finite(value: Any) -> Any:
    """``value`` with NaN floats replaced by None (strict JSON)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return None if isinstance(value, float) and math.isnan(value) else value


def run(args: argparse.Namespace) -> int:
    config = EnsembleConfig(
        n_models=args.n_models, feature_fraction=args.feature_fraction, iterations=args.iterations,
        calibration=args.calibration, threshold_objective=args.thresholds, min_sensitivity=args.min_sensitivity,
        n_boot=args.n_boot,
        thread_count=args.threads, max_records=args.max_records, measurements=args.measurements,
        random_state=args.seed,
    )
    model = fit_ensemble(args.model, args.data, args.extra_data, config, cache_dir=args.cache)
    folder = save_ensemble(model, args.model)
    if args.json:
        print(json.dumps(_finite(model.report)))
    else:
        print_report(model.report)
        print(f"written: {folder}")
    return 0
