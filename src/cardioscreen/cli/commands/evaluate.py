"""``cardioscreen evaluate``: figures of what a bundle reports (or of its raw network) on labelled records."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from cardioscreen.cli.arguments import fold_list
from cardioscreen.evaluation.evaluate import OUTPUTS, evaluate_bundle


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a model bundle on labelled records (PTB-XL, ptbxl-z100 or challenge folders)",
        description="Per class: positives, AUC, ECE, sensitivity and specificity, each with a 90%% bootstrap "
        "interval; macro-AUC, macro-F1 and a naive class-prior baseline. By default the bundle's reported output "
        "is scored, exactly as `analyze` reports it (calibrated, stacked where that is the default; classes not "
        "assessed are never flagged; refused records are counted and left out); --output network scores the raw "
        "network at its own thresholds. DATA is a PTB-XL-layout folder, a ptbxl-z100 folder (there folds 1-8 "
        "select its train split, 9 its val split) or a PhysioNet/CinC challenge folder of .hea/.mat records "
        "(SNOMED-CT `# Dx` codes mapped to the model's classes; figures per subfolder/hospital too). PTB-XL fold 9 "
        "is validation (used to choose and calibrate the model), not a test set.",
    )
    parser.add_argument("--data", type=Path, required=True, help="PTB-XL, ptbxl-z100 or challenge folder")
    parser.add_argument("--model", type=Path, default=None, help="bundle directory (default: the shipped model)")
    parser.add_argument("--task", default="seed17", help="seed17 or superdiagnostic (a task the bundle predicts)")
    parser.add_argument("--folds", type=fold_list, default=(10,), help="comma-separated strat_fold values")
    parser.add_argument("--output", choices=OUTPUTS, default="reported",
                        help="the reported output (default) or the raw network")
    parser.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--cache", type=Path, default=None, help="signal cache folder")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(func=run)


def _fmt(value: float | None, ci: list[float] | None = None) -> str:
    text = "n/a" if value is None or math.isnan(value) else f"{value:.3f}"
    return f"{text} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci and not any(math.isnan(c) for c in ci) else text


def _print_table(result: dict[str, Any]) -> None:
    print(f"model {result['model']}  output {result['output']}  task {result['task']}  data {result['data']}  "
          f"folds {result['folds']}  records {result['n_records']} (refused {result['n_refused']})")
    print(f"macro-AUC    {_fmt(result['macro_auc'], result['macro_auc_ci'])}  (90% CI; "
          f"assessed classes only: {_fmt(result['macro_auc_assessed'])})")
    print(f"macro-F1     {_fmt(result['macro_f1'], result['macro_f1_ci'])}")
    print(f"sensitivity  {_fmt(result['sensitivity'], result['sensitivity_ci'])}")
    print(f"specificity  {_fmt(result['specificity'], result['specificity_ci'])}")
    print(f"macro-ECE    {_fmt(result['macro_ece'])}   exact 0/1 share {result['exact_01_share']:.2%}")
    if "baseline" in result:
        base = result["baseline"]
        print(f"class-prior baseline: macro-AUC {_fmt(base['macro_auc'])}, macro-F1 {_fmt(base['macro_f1'])}")
    print(f"{'class':<9}{'pos':>5}  {'AUC (90% CI)':<22}{'ECE':>7}  {'sensitivity':<22}{'specificity':<22}")
    for name, fig in result["per_class"].items():
        note = "" if fig["assessed"] else "  not assessed by this model"
        print(f"{name:<9}{fig['positives']:>5}  {_fmt(fig['auc'], fig['auc_ci']):<22}{_fmt(fig['ece']):>7}  "
              f"{_fmt(fig['sensitivity'], fig['sensitivity_ci']):<22}"
              f"{_fmt(fig['specificity'], fig['specificity_ci']):<22}{note}")
    for source, fig in result.get("by_source", {}).items():
        print(f"  {source:<16} records {fig['n_records']:>4}  macro-AUC {_fmt(fig['macro_auc'], fig['macro_auc_ci'])}"
              f"  classes {len(fig['classes_evaluated'])}")


def _json_safe(value: Any) -> Any:
    """NaN and infinity (a class without positives, a class never flagged) become null: valid JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def run(args: argparse.Namespace) -> int:
    result = evaluate_bundle(args.data, args.model, task=args.task, folds=args.folds, output=args.output,
                             n_boot=args.n_boot, cache_dir=args.cache)
    if args.json:
        print(json.dumps(_json_safe(result), indent=2))
    else:
        _print_table(result)
    return 0
