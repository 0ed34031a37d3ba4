"""Analysis speed: Analyzer latency on one core, batch throughput on 2 cores, peak memory, vs the prototype.

The prototype's pipeline, timed in the same run: neurokit2 cleaning and R-peak finding per lead, the beats cut
at midpoints and resampled to 500 samples, then 17 one-vs-rest ``se_ecgnet_seed`` networks (42.7M parameters
each, random weights: only the time matters) on the beats, scores averaged per network.

The latency is taken over ``BENCH_ROUNDS`` passes over the records: this shared machine's speed drifts by 10-20 %
from one second to the next, so the median of all passes and the range of the passes' medians are printed, not one
pass.

Environment: ``BENCH_RECORDS`` (records for latency, default 60), ``BENCH_ROUNDS`` (passes over them, default 5),
``BENCH_BATCH`` (records for throughput, default all 434), ``BENCH_PROTO_RECORDS`` (records for the prototype,
default 3).
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import SHARED_DATA, single_core


def _records(limit: int) -> list[Path]:
    return sorted((SHARED_DATA / "ptbxl" / "records500").rglob("*.hea"))[:limit]


def _latency(paths: list[Path], rounds: int = 1) -> list[list[float]]:
    """Seconds of ``analyze_file`` per record, one list per pass over ``paths``."""
    from cardioscreen.pipeline import Analyzer

    analyzer = Analyzer.load()
    for path in paths[:3]:
        analyzer.analyze_file(path)
    passes = []
    for _ in range(rounds):
        times = []
        for path in paths:
            start = time.perf_counter()
            analyzer.analyze_file(path)
            times.append(time.perf_counter() - start)
        passes.append(times)
    return passes


def _prototype_seconds(paths: list[Path]) -> list[float]:
    import neurokit2 as nk
    import torch

    from cardioscreen.io import read_ecg
    from cardioscreen.models.registry import create_model
    from cardioscreen.signal.beats import ecg_beats

    networks = [create_model("se_ecgnet_seed", num_classes=2).eval() for _ in range(17)]
    times = []
    for path in paths:
        start = time.perf_counter()
        record = read_ecg(path, standard12=True)
        cleaned = np.stack([nk.ecg_clean(lead, sampling_rate=int(record.fs)) for lead in record.signal])
        peaks_per_lead = [nk.ecg_peaks(lead, sampling_rate=int(record.fs))[1]["ECG_R_Peaks"] for lead in cleaned]
        r_peaks = np.asarray(max(peaks_per_lead, key=len))
        beats, _ = ecg_beats(cleaned, record.fs, r_peaks, n_samples=500)
        x = torch.from_numpy(beats[:, None].astype(np.float32))
        with torch.no_grad():
            scores = [torch.softmax(net(x), dim=1)[:, 1].mean().item() for net in networks]
        assert len(scores) == 17
        times.append(time.perf_counter() - start)
    return times


def _batch_wall(folder: Path) -> tuple[float, int]:
    """Wall seconds of ``cardioscreen analyze DIR --jobs 2`` (start-up included) and the records it analysed."""
    command = [sys.executable, "-m", "cardioscreen.cli", "analyze", str(folder), "--json", "--jobs", "2"]
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    return wall, len(proc.stdout.splitlines())


def _folder_of(paths: list[Path], folder: Path) -> Path:
    folder.mkdir()
    for hea in paths:
        shutil.copy(hea, folder)
        shutil.copy(hea.with_suffix(".dat"), folder)
    return folder


def _batch(paths: list[Path], small: int = 50) -> tuple[float, float, float, int]:
    """Batch figures of ``cardioscreen analyze DIR``.

    Returns wall seconds for all ``paths``, the marginal rate (records/s) between a run on ``small`` records and
    the full run (start-up cancels out), peak RSS (MB) of a 1-job run on 20 records, and the failures.
    """
    with tempfile.TemporaryDirectory() as tmp:
        full = _folder_of(paths, Path(tmp) / "full")
        wall, done = _batch_wall(full)
        wall_small, _ = _batch_wall(_folder_of(paths[:small], Path(tmp) / "small"))
        marginal = (len(paths) - small) / (wall - wall_small)
        subprocess.run([sys.executable, "-m", "cardioscreen.cli", "analyze", *map(str, paths[:20]), "--json",
                        "--jobs", "1"], capture_output=True, check=False)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, marginal, peak_mb, len(paths) - done


def main() -> None:
    n_latency = int(os.environ.get("BENCH_RECORDS", "60"))
    n_batch = int(os.environ.get("BENCH_BATCH", "434"))
    n_proto = int(os.environ.get("BENCH_PROTO_RECORDS", "3"))
    rounds = max(int(os.environ.get("BENCH_ROUNDS", "5")), 1)
    wall, marginal, peak_mb, failures = _batch(_records(n_batch))
    single_core()
    passes = _latency(_records(n_latency), rounds)
    latency = [t for times in passes for t in times]
    proto = _prototype_seconds(_records(n_proto))
    median_ms, proto_ms = 1000 * statistics.median(latency), 1000 * statistics.median(proto)
    pass_medians = [1000 * statistics.median(times) for times in passes]
    print(f"Analyzer.analyze (read -> result, ONNX, 1 core), {len(passes[0])} PTB-XL 500 Hz 10 s records, "
          f"{rounds} passes:")
    print(f"  median {median_ms:.1f} ms, p90 {1000 * float(np.percentile(latency, 90)):.1f} ms  (target <= 20 ms); "
          f"medians of the passes {min(pass_medians):.1f}-{max(pass_medians):.1f} ms")
    print(f"prototype pipeline (neurokit2 + 17 x se_ecgnet_seed), {len(proto)} records, 1 core:")
    print(f"  median {proto_ms:.0f} ms  -> speed-up {proto_ms / median_ms:.0f}x  (goal >= 300x)")
    print(f"cardioscreen analyze DIR --jobs 2 on {n_batch} records: {wall:.1f} s wall incl. start-up, "
          f"{n_batch / wall:.0f} records/s (target >= 100), {failures} failed; "
          f"past start-up (runs of {n_batch} vs 50 records): {marginal:.0f} records/s")
    print(f"peak resident memory of one analyze process (20 records, --jobs 1): {peak_mb:.0f} MB (limit 600 MB)")
