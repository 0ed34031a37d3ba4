"""Train every recipe/model on the shared PTB-XL data and compare them in one table, all measured in this run.

Rows: the seed recipe (17 one-vs-rest beat networks on PTB-XL, seed17 only, as the prototype), multi-label
``se_ecgnet``, ``xresnet1d101``, ``inception1d`` and ``convnext1d`` (a 1-D ConvNeXt) on PTB-XL + ptbxl-z100 (folds
1-8), each with the augmentations for other carts; a deep ensemble of seeds of ``convnext1d`` (probabilities
averaged); a logistic regression on the handcrafted features; and the shipped default bundle. Columns: macro-AUC of
the network's output with 90% bootstrap CI for ``seed17`` and ``superdiagnostic`` on fold 9 of both folders (the
validation fold: epochs and thresholds were chosen on it, so it flatters), parameters, training time and inference
milliseconds per record on one CPU core. Below the table: the paired-bootstrap interval of the macro-AUC
difference between each trained row and the shipped default on the same records. The seed recipe's inference is
also timed at the prototype's full width (17 x 42.7 M parameters; timing does not depend on the weights).

Environment (to fit the run into the time at hand):
  CARDIOSCREEN_BENCH_EPOCHS       epochs of the multi-label networks (default 30)
  CARDIOSCREEN_BENCH_REF_EPOCHS   epochs of xresnet1d101 and inception1d (default: CARDIOSCREEN_BENCH_EPOCHS)
  CARDIOSCREEN_BENCH_SEEDS        networks in the deep ensemble (default 3)
  CARDIOSCREEN_BENCH_AUGMENT      augmentations of the multi-label rows (default "all"; "" for none)
  CARDIOSCREEN_BENCH_SEED_EPOCHS  epochs of each seed-recipe network (default 5)
  CARDIOSCREEN_BENCH_SEED_WIDTH   ``width`` of the trained seed networks (default 4; the prototype's is 16)
  CARDIOSCREEN_BENCH_SEED_CAP     records drawn per other class for each seed network (default 100)
  CARDIOSCREEN_BENCH_MAX_RECORDS  at most this many records per split and folder (default: all)
  CARDIOSCREEN_BENCH_ROWS         comma-separated subset of rows to run (default: all)
  CARDIOSCREEN_BENCH_KEEP         folder to keep the trained bundles in (default: discarded); a bundle kept there by
                                  an earlier run for the same configuration and records is reused, with the
                                  training seconds of its manifest
  CARDIOSCREEN_BENCH_JOBS         networks trained at once, each in its own single-core process (default 1)
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import SHARED_DATA, fork_map, median_seconds, single_core
from cardioscreen.datasets.cinc import CinC
from cardioscreen.datasets.labels import SEED17
from cardioscreen.models.bundle import default_bundle_path, load_bundle
from cardioscreen.training.data import TaskData, load_training_data
from cardioscreen.training.evaluate import evaluated_rows
from cardioscreen.training.inference import predict_inputs, predict_record
from cardioscreen.training.metrics import bootstrap_ci, evaluate_scores, macro_auc
from cardioscreen.training.recipes import DEFAULT_SEED_CAP as SEED_CAP
from cardioscreen.training.recipes import RunSpec, train_bundle
from cardioscreen.training.trainer import TrainConfig

PTBXL_DIR = SHARED_DATA / "ptbxl"
Z100_DIR = SHARED_DATA / "ptbxl-z100"
CHALLENGE_DIR = SHARED_DATA / "challenge"
TASKS = ("seed17", "superdiagnostic")
N_BOOT = 500


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass
class Row:
    name: str
    aucs: dict[str, tuple[float, list[float]]]
    params: int
    train_s: float
    infer_ms: float
    note: str = ""
    scores: np.ndarray | None = None
    """Fold-9 network probabilities on the records of the row's validation set (for paired comparisons)."""


def validation_scores(bundles: Any, val: TaskData) -> np.ndarray:
    """Network probabilities ``(records, labels of val)`` on fold 9, averaged over ``bundles`` (one or several)."""
    bundles = bundles if isinstance(bundles, list) else [bundles]
    columns = [[(lab.code, lab.task) for lab in b.labels].index((lab.code, lab.task)) for b in bundles[:1]
               for lab in val.labels]
    return np.mean([predict_inputs(b, val.x)[:, columns] for b in bundles], axis=0)


def fold9_aucs(scores: np.ndarray, val: TaskData) -> dict[str, tuple[float, list[float]]]:
    """Macro-AUC with its 90% bootstrap interval per task of ``val``'s labels."""
    out = {}
    for task in dict.fromkeys(label.task for label in val.labels):
        cols = val.task_columns(task)
        y, mask = val.y[:, cols], val.mask[:, cols]
        keep = evaluated_rows(task, y, mask)
        classes = [val.labels[c].code for c in cols]
        result = evaluate_scores(y[keep], scores[keep][:, cols], classes, np.full(len(cols), 0.5), n_boot=N_BOOT)
        out[task] = (result["macro_auc"], result["macro_auc_ci"])
    return out


def challenge_aucs(bundle: Any, challenge_dir: Path = CHALLENGE_DIR) -> dict[str, dict[str, float]]:
    """Network macro-AUC per hospital of the PhysioNet/CinC dev records and task (NaN where no class is
    evaluable: a class needs a positive and a negative among the hospital's records)."""
    cinc = CinC.load(challenge_dir)
    scores = np.stack([predict_record(bundle, cinc.read(i)) for i in range(len(cinc))])
    out: dict[str, dict[str, float]] = {}
    for hospital in np.unique(cinc.sources):
        rows = cinc.sources == hospital
        out[str(hospital)] = {}
        for task in TASKS:
            cols = [j for j, label in enumerate(bundle.labels) if label.task == task]
            labels = cinc.labels(task, [bundle.labels[j].code for j in cols])
            out[str(hospital)][task] = macro_auc(labels.y[rows], scores[rows][:, cols], labels.mask[rows])
    return out


def paired_difference(a: np.ndarray, b: np.ndarray, val: TaskData, task: str) -> tuple[float, tuple[float, float]]:
    """Macro-AUC of scores ``a`` minus that of ``b`` on the same records, with its paired 90% bootstrap interval."""
    cols = val.task_columns(task)
    keep = evaluated_rows(task, val.y[:, cols], val.mask[:, cols])
    y, sa, sb = val.y[keep][:, cols], a[keep][:, cols], b[keep][:, cols]

    def diff(rows: np.ndarray) -> float:
        return macro_auc(y[rows], sa[rows]) - macro_auc(y[rows], sb[rows])

    return diff(np.arange(len(y))), bootstrap_ci(diff, len(y), n_boot=N_BOOT)


def _infer_ms(bundle: Any, record: np.ndarray) -> float:
    return 1000 * median_seconds(lambda: predict_inputs(bundle, record[None]), repeats=10, warmup=1)


_TRAINED: dict[tuple[str, str, int], tuple[Any, float]] = {}
"""Bundles trained in this run by (recipe, config, records), so a row that needs the same network reuses it."""


@dataclass(frozen=True, eq=False)
class NetworkSpec:
    """One network to train: its name, recipe, configuration and records."""

    name: str
    recipe: str
    config: TrainConfig
    data: TaskData
    seed_cap: int = 0

    @property
    def key(self) -> tuple[str, str, int]:
        return self.recipe, repr(sorted(self.config.to_dict().items())), len(self.data)


def _train(spec: NetworkSpec, work: Path, cache: Path) -> tuple[Path, float]:
    """Train ``spec`` into a folder (under CARDIOSCREEN_BENCH_KEEP when set); returns it and the training seconds."""
    tasks = tuple(dict.fromkeys(label.task for label in spec.data.labels))
    keep = os.environ.get("CARDIOSCREEN_BENCH_KEEP")
    run = RunSpec(
        data_dir=PTBXL_DIR,
        out=(Path(keep) if keep else work) / spec.name.replace(" ", "_"),
        tasks=tasks,
        recipe=spec.recipe,
        cache_dir=cache,
        n_boot=N_BOOT,
        seed_cap=spec.seed_cap or SEED_CAP,
    )
    kept = _kept_seconds(run.out, spec)
    if kept is not None:
        print(f"{spec.name}: trained by an earlier run into {run.out}, reused", flush=True)
        return run.out, kept
    start = time.perf_counter()
    train_bundle(run, spec.config, spec.data)
    return run.out, time.perf_counter() - start


def _kept_seconds(out: Path, spec: NetworkSpec) -> float | None:
    """The training seconds of a bundle an earlier run of this bench kept in ``out`` (CARDIOSCREEN_BENCH_KEEP) for
    the same configuration and number of records, from its manifest; None where there is none, so it is trained."""
    try:
        training = json.loads((out / "manifest.json").read_text())["training"]
    except (OSError, ValueError, KeyError):
        return None
    counts = training.get("n_records")
    total = sum(counts.values()) if isinstance(counts, dict) else counts
    same = training.get("config") == json.loads(json.dumps(spec.config.to_dict())) and total == len(spec.data)
    return float(training["seconds"]) if same and "seconds" in training else None


def train_network(spec: NetworkSpec, work: Path, cache: Path) -> tuple[Any, float]:
    """The bundle of ``spec`` and its training seconds, trained now unless this run trained it already."""
    if spec.key not in _TRAINED:
        out, seconds = _train(spec, work, cache)
        _TRAINED[spec.key] = load_bundle(out), seconds
    return _TRAINED[spec.key]


_PENDING: list[tuple[NetworkSpec, Path, Path]] = []
"""What :func:`pretrain` hands its forked workers (by index, so the training arrays are inherited, not pickled)."""


def _train_pending(index: int) -> tuple[Path, float]:
    single_core()
    return _train(*_PENDING[index])


def pretrain(specs: list[NetworkSpec], work: Path, cache: Path, jobs: int) -> None:
    """Train every network of ``specs`` not trained yet, ``jobs`` at a time in forked single-core processes (each
    row's training seconds are its own process's wall time), so the rows then find them trained."""
    todo = list({spec.key: spec for spec in specs if spec.key not in _TRAINED}.values())
    _PENDING[:] = [(spec, work, cache) for spec in todo]
    for spec, (out, seconds) in zip(todo, fork_map(_train_pending, range(len(todo)), jobs), strict=True):
        _TRAINED[spec.key] = load_bundle(out), seconds
    _PENDING.clear()


def _network_row(spec: NetworkSpec, work: Path, cache: Path) -> Row:
    bundle, train_s = train_network(spec, work, cache)
    val = spec.data.in_split("val")
    scores = validation_scores(bundle, val)
    return Row(spec.name, fold9_aucs(scores, val), bundle.manifest["n_parameters"], train_s,
               _infer_ms(bundle, val.x[0]), scores=scores)


def _ensemble_specs(config: TrainConfig, seeds: int, data: TaskData) -> list[NetworkSpec]:
    """The networks of a deep ensemble: ``config`` trained from seeds 0..n-1 (seed 0 is the single-network row's)."""
    return [NetworkSpec(f"{config.model} seed {seed}", "multilabel", replace(config, seed=seed), data)
            for seed in range(seeds)]


def _ensemble_row(specs: list[NetworkSpec], work: Path, cache: Path) -> Row:
    """A deep ensemble of the networks of ``specs``, probabilities averaged."""
    trained = [train_network(spec, work, cache) for spec in specs]
    bundles = [bundle for bundle, _ in trained]
    val = specs[0].data.in_split("val")
    scores = validation_scores(bundles, val)
    params = sum(int(b.manifest["n_parameters"]) for b in bundles)
    infer_ms = sum(_infer_ms(b, val.x[0]) for b in bundles)
    return Row(f"deep ensemble {len(specs)} x {specs[0].config.model}", fold9_aucs(scores, val), params,
               sum(t for _, t in trained), infer_ms, "seeds 0..n-1, probabilities averaged", scores)


def _features(x_mv: np.ndarray, fs: float) -> np.ndarray:
    from cardioscreen.features import record_features
    from cardioscreen.signal.beats import ecg_beats
    from cardioscreen.signal.peaks import ecg_peaks

    leads = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    rows = []
    for record in x_mv:
        peaks, _ = ecg_peaks(record, fs)
        beats, _ = ecg_beats(record, fs, peaks, n_samples=500)
        rows.append(record_features(beats, fs, leads, peaks, fs)[0])
    return np.nan_to_num(np.asarray(rows, dtype=np.float64))


def _logistic_row(cache: Path) -> Row:
    """One logistic regression per class on the record features of the raw (mV) PTB-XL records."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from cardioscreen.datasets.ptbxl import PTBXL

    dataset = PTBXL.load(PTBXL_DIR)
    train, val = dataset.in_folds(range(1, 9)), dataset.in_folds([9])
    start = time.perf_counter()
    f_train = _features(train.signals(500, cache_dir=cache), 500)
    aucs, models = {}, {}
    for task in TASKS:
        classes = SEED17 if task == "seed17" else train.labels(task).classes
        y_train = train.labels(task, classes).y
        models[task] = [
            make_pipeline(StandardScaler(), LogisticRegression(C=0.05, class_weight="balanced", max_iter=2000)).fit(
                f_train, y_train[:, j]
            )
            if 0 < y_train[:, j].sum() < len(y_train)
            else None
            for j in range(len(classes))
        ]
    train_s = time.perf_counter() - start
    x_val = val.signals(500, cache_dir=cache)
    f_val = _features(x_val, 500)
    for task in TASKS:
        classes = SEED17 if task == "seed17" else train.labels(task).classes
        labels = val.labels(task, classes)
        scores = np.column_stack([m.predict_proba(f_val)[:, 1] if m else np.zeros(len(f_val)) for m in models[task]])
        keep = evaluated_rows(task, labels.y, labels.mask)
        result = evaluate_scores(labels.y[keep], scores[keep], classes, np.full(len(classes), 0.5), n_boot=N_BOOT)
        aucs[task] = (result["macro_auc"], result["macro_auc_ci"])
    n_params = sum(m[-1].coef_.size + 1 for task in TASKS for m in models[task] if m)

    def infer() -> None:
        feats = _features(x_val[:1], 500)
        for task in TASKS:
            [m.predict_proba(feats) for m in models[task] if m]

    infer_ms = 1000 * median_seconds(infer, repeats=10, warmup=1)
    return Row("logistic regression (features)", aucs, n_params, train_s, infer_ms, "PTB-XL only (mV features)")


def _seed_full_width_ms(record: np.ndarray) -> tuple[int, float]:
    """Inference of the prototype-sized seed recipe (17 networks at full width) on one record's beats."""
    from cardioscreen.models.one_vs_rest import OneVsRest
    from cardioscreen.models.registry import create_model
    from cardioscreen.training.inference import probabilities
    from cardioscreen.training.seed import BEAT_SAMPLES, beats_of

    model = OneVsRest([create_model("se_ecgnet_seed", num_classes=2) for _ in SEED17]).eval()
    n_params = sum(p.numel() for p in model.parameters())

    def infer() -> None:
        beats, _ = beats_of(record[None], 100.0)
        probabilities(model, beats[..., :BEAT_SAMPLES])

    return n_params, 1000 * median_seconds(infer, repeats=3, warmup=1)


def _print(rows: list[Row], seed_full: tuple[int, float] | None) -> None:
    def auc(row: Row, task: str) -> str:
        if task not in row.aucs:
            return "n/a"
        value, ci = row.aucs[task]
        return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"

    print(
        f"{'model':<36}{'seed17 AUC (90% CI)':>26}{'superdiag AUC (90% CI)':>26}{'params':>12}"
        f"{'train s':>9}{'infer ms':>10}  note"
    )
    for row in rows:
        print(
            f"{row.name:<36}{auc(row, 'seed17'):>26}{auc(row, 'superdiagnostic'):>26}{row.params:>12,}"
            f"{row.train_s:>9.0f}{row.infer_ms:>10.1f}  {row.note}"
        )
    if seed_full is not None:
        params, ms = seed_full
        print(f"\nseed recipe at the prototype's full width: {params:,} parameters, {ms:.0f} ms per record (1 core)")
        for row in rows:
            if row.name.startswith("shipped"):
                print(f"shipped default / full seed recipe inference time: 1/{ms / row.infer_ms:.0f}")


def _print_differences(rows: list[Row], reference: Row, val: TaskData) -> None:
    """Paired-bootstrap macro-AUC difference of each row against ``reference`` on the same fold-9 records."""
    if reference.scores is None:
        return
    print(f"\nmacro-AUC difference against '{reference.name}' on the same {len(val)} fold-9 records "
          "(paired bootstrap, 90% interval):")
    for row in rows:
        if row is reference or row.scores is None or row.scores.shape != reference.scores.shape:
            continue
        cells = []
        for task in TASKS:
            value, (low, high) = paired_difference(row.scores, reference.scores, val, task)
            cells.append(f"{task} {value:+.3f} [{low:+.3f}, {high:+.3f}]")
        print(f"  {row.name:<36}" + "   ".join(cells))


def main() -> None:
    single_core()
    epochs = _env_int("CARDIOSCREEN_BENCH_EPOCHS", 30)
    ref_epochs = _env_int("CARDIOSCREEN_BENCH_REF_EPOCHS", epochs)
    seeds = _env_int("CARDIOSCREEN_BENCH_SEEDS", 3)
    augment = tuple(a for a in os.environ.get("CARDIOSCREEN_BENCH_AUGMENT", "all").split(",") if a)
    seed_epochs = _env_int("CARDIOSCREEN_BENCH_SEED_EPOCHS", 5)
    seed_width = _env_int("CARDIOSCREEN_BENCH_SEED_WIDTH", 4)
    seed_cap = _env_int("CARDIOSCREEN_BENCH_SEED_CAP", SEED_CAP)
    max_records = _env_int("CARDIOSCREEN_BENCH_MAX_RECORDS", 0) or None
    jobs = _env_int("CARDIOSCREEN_BENCH_JOBS", 1)
    wanted = [r for r in os.environ.get("CARDIOSCREEN_BENCH_ROWS", "").split(",") if r]
    print(
        f"epochs {epochs}, reference-net epochs {ref_epochs}, ensemble seeds {seeds}, augmentations {augment}, "
        f"seed epochs {seed_epochs}, seed width {seed_width}, seed cap {seed_cap}, max records {max_records}, "
        f"{jobs} training processes of one core each"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work, cache = Path(tmp), Path(tmp) / "cache"
        data = load_training_data(PTBXL_DIR, TASKS, extra_dirs=[Z100_DIR], cache_dir=cache, max_records=max_records)
        val = data.in_split("val")
        seed_data = data.take(data.source == "ptbxl")
        seed_data = replace(seed_data, y=seed_data.y[:, :17], mask=seed_data.mask[:, :17], labels=seed_data.labels[:17])
        print(f"records: {dict(zip(*np.unique(data.split + '/' + data.source, return_counts=True), strict=True))}")

        def multilabel(model: str, n_epochs: int, crop: int = 0) -> TrainConfig:
            return TrainConfig(model=model, epochs=n_epochs, patience=n_epochs, crop_samples=crop, augment=augment)

        seed_config = TrainConfig(
            model="se_ecgnet_seed",
            model_kwargs={"width": seed_width},
            epochs=seed_epochs,
            lr=3e-5,
            loss="focal",
            focal_gamma=1.8,
            optimizer="adam_plateau",
            patience=seed_epochs,
        )
        networks: dict[str, list[NetworkSpec]] = {
            # the slowest first, so the forked workers finish together
            "xresnet1d101": [NetworkSpec("multilabel xresnet1d101", "multilabel",
                                         multilabel("xresnet1d101", ref_epochs, 250), data)],
            "se_ecgnet": [NetworkSpec("multilabel se_ecgnet", "multilabel", multilabel("se_ecgnet", epochs), data)],
            "inception1d": [NetworkSpec("multilabel inception1d", "multilabel",
                                        multilabel("inception1d", ref_epochs, 250), data)],
            "convnext1d": [NetworkSpec("multilabel convnext1d", "multilabel", multilabel("convnext1d", epochs), data)],
            "ensemble": _ensemble_specs(multilabel("convnext1d", epochs), seeds, data),
            "seed": [NetworkSpec("seed recipe (se_ecgnet_seed per class)", "seed", seed_config, seed_data, seed_cap)],
        }
        chosen = [key for key in (*networks, "logistic") if not wanted or key in wanted]
        pretrain([spec for key in chosen for spec in networks.get(key, [])], work, cache, jobs)
        rows = []
        for key in chosen:
            print(f"scoring {key} ...", flush=True)
            if key == "logistic":
                rows.append(_logistic_row(cache))
            elif key == "ensemble":
                rows.append(_ensemble_row(networks[key], work, cache))
            else:
                rows.append(_network_row(networks[key][0], work, cache))
        shipped_row = None
        if default_bundle_path().joinpath("manifest.json").is_file():
            shipped = load_bundle(default_bundle_path())
            scores = validation_scores(shipped, val)
            shipped_row = Row(
                "shipped default",
                fold9_aucs(scores, val),
                shipped.manifest["n_parameters"],
                float(shipped.manifest["training"].get("seconds", float("nan"))),
                _infer_ms(shipped, val.x[0]),
                "trained earlier; train s from its manifest",
                scores,
            )
            rows.append(shipped_row)
        seed_full = _seed_full_width_ms(val.x[0]) if not wanted or "seed" in wanted else None
        _print(rows, seed_full)
        if shipped_row is not None:
            _print_differences(rows, shipped_row, val)
