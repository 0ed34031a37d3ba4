"""``cardioscreen train``: train a model bundle on PTB-XL (and optionally ptbxl-z100) records."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cardioscreen.augment.waveform import AUGMENTATIONS
from cardioscreen.cli.arguments import fold_list
from cardioscreen.training.data import FoldSpec
from cardioscreen.training.recipes import RECIPE_NAMES, RunSpec, parse_tasks, train_bundle
from cardioscreen.training.trainer import LOSSES, TrainConfig


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a model bundle",
        description="Train on strat_fold 1-8, select on fold 9 (early stopping on validation macro-AUC), tune "
        "thresholds on fold 9, and write a bundle directory. Several GPUs: torchrun --nproc_per_node=N -m "
        "cardioscreen.cli train ...",
    )
    parser.add_argument("--data", type=Path, required=True, help="PTB-XL folder (official layout)")
    parser.add_argument("--out", type=Path, required=True, help="bundle directory to write")
    parser.add_argument("--task", default="seed17,superdiagnostic", help="label task(s), comma-separated")
    parser.add_argument("--model", default=None, help="registry name (default se_ecgnet; se_ecgnet_seed for seed)")
    parser.add_argument("--model-kwargs", default="{}", help="JSON object of extra model arguments")
    parser.add_argument("--recipe", choices=RECIPE_NAMES, default="multilabel")
    parser.add_argument("--extra-data", type=Path, action="append", default=[], help="more folders (ptbxl-z100)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: the recipe's)")
    parser.add_argument("--loss", choices=LOSSES, default="bce")
    parser.add_argument("--crop", type=int, default=0, help="random crop length in samples (0 = whole record)")
    parser.add_argument("--augment", default="", help="comma-separated augmentations for other carts "
                        f"({', '.join(AUGMENTATIONS)}) or 'all'; none by default")
    parser.add_argument("--augment-p", type=float, default=0.5, help="probability of each augmentation per record")
    parser.add_argument("--patience", type=int, default=8, help="epochs without validation gain before stopping")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-folds", type=fold_list, default=(1, 2, 3, 4, 5, 6, 7, 8))
    parser.add_argument("--val-folds", type=fold_list, default=(9,))
    parser.add_argument("--test-folds", type=fold_list, default=(10,))
    parser.add_argument("--max-records", type=int, default=None, help="at most this many records per split/folder")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:1 ...")
    parser.add_argument("--cache", type=Path, default=None, help="signal cache folder")
    parser.add_argument("--work-dir", type=Path, default=None, help="checkpoints (default OUT.work); resumed")
    parser.add_argument("--keep-checkpoints", action="store_true")
    parser.add_argument("--init-from", type=Path, default=None, metavar="BUNDLE",
                        help="fine-tune: start from this bundle's network (same classes) instead of new weights")
    parser.add_argument("--wandb", action="store_true", help="log to Weights & Biases (needs wandb installed)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    seed = args.recipe == "seed"
    config = TrainConfig(
        model=args.model or ("se_ecgnet_seed" if seed else "se_ecgnet"),
        model_kwargs=json.loads(args.model_kwargs),
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr or (3e-5 if seed else 1e-3),
        loss="focal" if seed else args.loss,
        focal_gamma=1.8 if seed else 2.0,
        optimizer="adam_plateau" if seed else "adamw_onecycle",
        patience=args.patience,
        seed=args.seed,
        crop_samples=args.crop,
        augment=tuple(name for name in args.augment.split(",") if name),
        augment_p=args.augment_p,
        device=args.device,
        wandb=args.wandb,
    )
    run_spec = RunSpec(
        data_dir=args.data,
        out=args.out,
        tasks=parse_tasks(args.task),
        recipe=args.recipe,
        extra_dirs=tuple(args.extra_data),
        folds=FoldSpec(train=args.train_folds, val=args.val_folds, test=args.test_folds),
        max_records=args.max_records,
        cache_dir=args.cache,
        work_dir=args.work_dir,
        keep_checkpoints=args.keep_checkpoints,
        init_from=args.init_from,
    )
    path = train_bundle(run_spec, config)
    print(f"bundle written to {path}")
    return 0
