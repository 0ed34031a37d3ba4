"""``cardioscreen train-peaks``: fit the R-peak candidate verifier on annotated records (and cross-validate it)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "data" / "peaks" / "verifier.npz"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-peaks",
        help="train the R-peak verifier (default ecg_peaks) on MIT-BIH, CPSC 2019 and LUDB",
        description="Label every fused-envelope R-peak candidate of the annotated records, fit the boosted-tree "
                    "verifier on all of them and save it. With --cv, first score it by record-wise "
                    "cross-validation (each record decided by a model fitted without its fold) and store the "
                    "figures in the file.",
    )
    parser.add_argument("--data", type=Path, required=True, metavar="DIR",
                        help="folder holding mitdb/, cpsc2019/ and ludb/ (e.g. ../shared/data)")
    parser.add_argument("--datasets", nargs="+", default=["mitdb", "cpsc2019", "ludb"], help="datasets to use")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output file (default {DEFAULT_OUT})")
    parser.add_argument("--cv", action="store_true", help="cross-validate by record first")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from cardioscreen.signal.peak_train import (
        VerifierConfig,
        cross_validated_peaks,
        fit_verifier,
        label_candidates,
        load_peak_records,
        score_peaks,
    )
    from cardioscreen.signal.peaks import PeakScore

    logging.getLogger("cardioscreen").setLevel(logging.INFO)
    cfg = VerifierConfig()
    records = load_peak_records(args.data, args.datasets)
    tables = [label_candidates(r, cfg) for r in tqdm(records, desc="candidates", unit="record")]
    meta: dict[str, object] = {
        "trained_on": {name: sum(r.dataset == name for r in records) for name in args.datasets},
        "config": {"max_iter": cfg.max_iter, "max_depth": cfg.max_depth, "learning_rate": cfg.learning_rate,
                   "l2_regularization": cfg.l2_regularization, "min_samples_leaf": cfg.min_samples_leaf,
                   "dataset_weights": dict(cfg.dataset_weights), "tolerance_s": cfg.tolerance_s},
    }
    if args.cv:
        found = cross_validated_peaks(tables, cfg)
        scores: dict[str, dict[str, float]] = {}
        for name in args.datasets:
            total = sum((score_peaks(r, p, cfg.tolerance_s) for r, p in zip(records, found, strict=True)
                         if r.dataset == name), PeakScore(0, 0, 0))
            scores[name] = {"se": round(total.sensitivity, 5), "ppv": round(total.ppv, 5), "f1": round(total.f1, 5)}
            print(f"{cfg.folds}-fold record-wise CV, {name}: Se {100 * total.sensitivity:.2f} % "
                  f"PPV {100 * total.ppv:.2f} % F1 {100 * total.f1:.2f} % (fn {total.fn}, fp {total.fp})")
        meta["cross_validation"] = {"folds": cfg.folds, "tolerance_s": cfg.tolerance_s, "scores": scores}
    path = fit_verifier(tables, cfg, meta).save(args.out)
    print(f"wrote {path}")
    return 0
