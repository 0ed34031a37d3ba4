"""``cardioscreen evaluate``: record-level figures of a bundle on chosen folds, with bootstrap intervals."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from cardioscreen.cli.arguments import fold_list
from cardioscreen.models.bundle import default_bundle_path, load_bundle
from cardioscreen.training.evaluate import evaluate_bundle


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a model bundle on PTB-XL folds",
        description="Macro-AUC, per-class AUC, macro F1, sensitivity and specificity at the bundle's thresholds, "
        "each with a 90%% bootstrap interval, beside a naive class-prior baseline. DATA is a PTB-XL-layout folder "
        "or a ptbxl-z100 folder (there folds 1-8 select its train split, 9 its val split).",
    )
    parser.add_argument("--data", type=Path, required=True, help="PTB-XL or ptbxl-z100 folder")
    parser.add_argument("--model", type=Path, default=None, help="bundle directory (default: the shipped model)")
    parser.add_argument("--task", default="seed17", help="seed17 or superdiagnostic (a task the bundle predicts)")
    parser.add_argument("--folds", type=fold_list, default=(10,), help="comma-separated strat_fold values")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--cache", type=Path, default=None, help="signal cache folder")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=run)


def _fmt(value: float, ci: list[float] | None = None) -> str:
    text = "n/a" if value is None or math.isnan(value) else f"{value:.3f}"
    return f"{text} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci and not any(math.isnan(c) for c in ci) else text


def _print_table(result: dict[str, Any]) -> None:
    print(f"model {result['model']}  task {result['task']}  folds {result['folds']}  records {result['n_records']}")
    print(f"macro-AUC    {_fmt(result['macro_auc'], result['macro_auc_ci'])}  (90% CI)")
    print(f"macro-F1     {_fmt(result['macro_f1'], result['macro_f1_ci'])}")
    print(f"sensitivity  {_fmt(result['sensitivity'], result['sensitivity_ci'])}")
    print(f"specificity  {_fmt(result['specificity'], result['specificity_ci'])}")
    if "baseline" in result:
        base = result["baseline"]
        print(f"class-prior baseline: macro-AUC {_fmt(base['macro_auc'])}, macro-F1 {_fmt(base['macro_f1'])}")
    print(f"{'class':<10}{'AUC':>8}{'F1':>8}{'sens':>8}{'spec':>8}")
    for name, auc in result["per_class_auc"].items():
        row = [auc, result["per_class_f1"][name], result["per_class_sensitivity"][name]]
        row.append(result["per_class_specificity"][name])
        print(f"{name:<10}" + "".join(f"{_fmt(v):>8}" for v in row))


def _json_safe(value: Any) -> Any:
    """NaN (a class without positives) becomes null so the output is valid JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def run(args: argparse.Namespace) -> int:
    bundle = load_bundle(args.model or default_bundle_path())
    result = evaluate_bundle(
        bundle, args.data, task=args.task, folds=args.folds, n_boot=args.n_boot, cache_dir=args.cache
    )
    if args.json:
        print(json.dumps(_json_safe(result), indent=2))
    else:
        _print_table(result)
    return 0
