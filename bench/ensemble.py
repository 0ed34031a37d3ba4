"""Does the ensemble (CatBoost on embeddings + features [+ clinical measurements], stacked with the network) beat
the network alone, per task and per class, with and without the measurements?

Fold 9 (validation) macro-AUC of both with 90 % bootstrap intervals and a paired interval of the difference
(stacking and calibration cross-fitted on fold 9, boosting fitted on folds 1-8), per class the two AUCs and the
paired interval of their difference, each task's default output (the stack only where its interval lies above 0),
and the expected calibration error before and after per-class (Platt) calibration. Fitted twice on the same
records: with the measurements of :mod:`cardioscreen.ensemble.measurements` (NaN for ptbxl-z100) and without.
The bundle is the shipped default when there is one (copied, never modified), else ``CARDIOSCREEN_BENCH_BUNDLE``,
else a small ``se_ecgnet`` trained here (8 epochs on ptbxl + ptbxl-z100).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import SHARED_DATA


def _bundle(work: Path) -> Path:
    from cardioscreen.cli import main as cli
    from cardioscreen.models.bundle import default_bundle_path

    given = os.environ.get("CARDIOSCREEN_BENCH_BUNDLE")
    source = Path(given) if given else default_bundle_path()
    target = work / "bundle"
    if (source / "manifest.json").is_file():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("ensemble"))
        print(f"bundle: copy of {source}")
        return target
    print("bundle: none shipped; training se_ecgnet for 8 epochs on ptbxl + ptbxl-z100")
    argv = ["train", "--data", str(SHARED_DATA / "ptbxl"), "--extra-data", str(SHARED_DATA / "ptbxl-z100"),
            "--out", str(target), "--epochs", "8", "--patience", "8"]
    if cli(argv) != 0:
        raise RuntimeError("training the bench bundle failed")
    return target


def main() -> None:
    from cardioscreen.cli.commands.train_ensemble import print_report
    from cardioscreen.ensemble.measurements import measured_r_peaks, measurement_matrix
    from cardioscreen.ensemble.train import EnsembleConfig, fit_ensemble_on
    from cardioscreen.models.bundle import load_bundle
    from cardioscreen.training.data import load_training_data

    folders = (SHARED_DATA / "ptbxl", SHARED_DATA / "ptbxl-z100")
    with tempfile.TemporaryDirectory() as tmp:
        bundle = load_bundle(_bundle(Path(tmp)))
        data = load_training_data(folders[0], bundle.tasks, extra_dirs=folders[1:], recipe=bundle.input_spec.recipe)
        start = time.perf_counter()
        measurements = measurement_matrix(data, folders)
        print(f"measurements: {time.perf_counter() - start:.0f} s (cached after the first run)")
        r_peaks = measured_r_peaks(data, folders, bundle.input_spec.fs)  # the Analyzer's R-peaks, as train-ensemble
        for title, rows in (("with measurements", measurements), ("without measurements", None)):
            start = time.perf_counter()
            model = fit_ensemble_on(bundle, data, EnsembleConfig(thread_count=2), rows, r_peaks)
            print(f"\n== {title}: fitted in {time.perf_counter() - start:.0f} s ({model.embedding_dim} embedding + "
                  f"{len(model.feature_names)} feature + {len(model.measurement_names)} measurement columns)")
            print_report(model.report)


if __name__ == "__main__":
    main()
