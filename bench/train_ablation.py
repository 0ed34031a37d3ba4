"""What each augmentation and more training data buy: ``convnext1d`` trained with none, each one alone, and all
augmentations, and with 25 / 50 / 100 % of the training records (all augmentations), in one run.

Every network is trained on folds 1-8 of PTB-XL + ptbxl-z100 and scored (network output, macro-AUC with its 90%
bootstrap interval) on fold 9 of both folders (the validation fold: the best epoch was chosen on it) and on the
PhysioNet/CinC challenge records of each other hospital (never used for any choice), and the paired-bootstrap
difference against the run without augmentations is printed for fold 9.

Environment: ``CARDIOSCREEN_BENCH_ABLATION_EPOCHS`` (default 15), ``CARDIOSCREEN_BENCH_ABLATION_ROWS``
(comma-separated subset of ``none``, the augmentation names, ``all``, ``data25``, ``data50``; default all of them),
``CARDIOSCREEN_BENCH_MAX_RECORDS`` (records per split and folder, default all), ``CARDIOSCREEN_BENCH_JOBS`` (networks
trained at once, each in its own single-core process; default 1).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from bench.common import single_core
from bench.train_compare import (
    PTBXL_DIR,
    TASKS,
    Z100_DIR,
    NetworkSpec,
    Row,
    challenge_aucs,
    fold9_aucs,
    paired_difference,
    pretrain,
    train_network,
    validation_scores,
)
from cardioscreen.augment.waveform import AUGMENTATIONS
from cardioscreen.training.data import TaskData, load_training_data
from cardioscreen.training.trainer import TrainConfig


def _subsample(data: TaskData, fraction: float, seed: int = 0) -> TaskData:
    """All validation records and ``fraction`` of the training patients' records (patient-wise, seeded)."""
    rng = np.random.default_rng(seed)
    train = np.flatnonzero(data.split == "train")
    patients = np.unique(data.patient_ids[train])
    chosen = rng.permutation(patients)[: int(round(fraction * len(patients)))]
    keep = np.isin(data.patient_ids, chosen) & (data.split == "train") | (data.split == "val")
    return data.take(keep)


def _cell(aucs: dict[str, tuple[float, list[float]]], task: str) -> str:
    value, ci = aucs[task]
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def main() -> None:
    single_core()
    epochs = int(os.environ.get("CARDIOSCREEN_BENCH_ABLATION_EPOCHS", 15))
    max_records = int(os.environ.get("CARDIOSCREEN_BENCH_MAX_RECORDS", 0)) or None
    jobs = int(os.environ.get("CARDIOSCREEN_BENCH_JOBS", 1))
    configs: dict[str, tuple[tuple[str, ...], float]] = {"none": ((), 1.0)}
    configs.update({name: ((name,), 1.0) for name in AUGMENTATIONS})
    configs.update({"all": (("all",), 1.0), "data25": (("all",), 0.25), "data50": (("all",), 0.5)})
    wanted = [r for r in os.environ.get("CARDIOSCREEN_BENCH_ABLATION_ROWS", "").split(",") if r] or list(configs)
    print(f"convnext1d, {epochs} epochs, rows {wanted}, max records {max_records}")
    with tempfile.TemporaryDirectory() as tmp:
        work, cache = Path(tmp), Path(tmp) / "cache"
        data = load_training_data(PTBXL_DIR, TASKS, extra_dirs=[Z100_DIR], cache_dir=cache, max_records=max_records)
        val = data.in_split("val")
        rows: list[Row] = []
        hospitals: dict[str, dict[str, dict[str, float]]] = {}
        specs = {}
        for key in wanted:
            augment, fraction = configs[key]
            subset = _subsample(data, fraction) if fraction < 1 else data
            config = TrainConfig(model="convnext1d", epochs=epochs, patience=epochs, augment=augment)
            specs[key] = NetworkSpec(f"ablation {key}", "multilabel", config, subset)
        pretrain(list(specs.values()), work, cache, jobs)
        for key, spec in specs.items():
            subset = spec.data
            print(f"scoring {key} ({int((subset.split == 'train').sum())} training records) ...", flush=True)
            bundle, seconds = train_network(spec, work, cache)
            scores = validation_scores(bundle, val)
            hospitals[key] = challenge_aucs(bundle)
            rows.append(Row(key, fold9_aucs(scores, val), int(bundle.manifest["n_parameters"]), seconds, 0.0,
                            f"{int((subset.split == 'train').sum())} training records", scores))
        print(f"\n{'run':<14}{'fold-9 seed17 AUC':>26}{'fold-9 superdiag AUC':>26}{'train s':>9}  training records")
        for row in rows:
            print(f"{row.name:<14}{_cell(row.aucs, 'seed17'):>26}{_cell(row.aucs, 'superdiagnostic'):>26}"
                  f"{row.train_s:>9.0f}  {row.note}")
        names = sorted({h for per_run in hospitals.values() for h in per_run})
        print("\nchallenge records, macro-AUC per hospital (seed17 / superdiagnostic; nan: no evaluable class):")
        print(f"{'run':<14}" + "".join(f"{name:>22}" for name in names))
        for key, per_run in hospitals.items():
            print(f"{key:<14}" + "".join(
                f"{per_run[h]['seed17']:>10.3f} / {per_run[h]['superdiagnostic']:<9.3f}" for h in names))
        reference = next((row for row in rows if row.name == "none"), None)
        if reference is not None and reference.scores is not None:
            print("\nfold-9 macro-AUC difference against no augmentation (paired bootstrap, 90% interval):")
            for row in rows:
                if row is not reference and row.scores is not None:
                    cells = [paired_difference(row.scores, reference.scores, val, task) for task in TASKS]
                    print(f"  {row.name:<14}" + "   ".join(
                        f"{task} {v:+.3f} [{lo:+.3f}, {hi:+.3f}]" for task, (v, (lo, hi)) in zip(TASKS, cells,
                                                                                                  strict=True)))
