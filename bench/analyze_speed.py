"""Analysis speed: Analyzer latency on one core, batch throughput on 2 cores, peak memory, vs the prototype.

The prototype's pipeline, timed in the same run: neurokit2 cleaning and R-peak finding per lead, the beats cut
at midpoints and resampled to 500 samples, then 17 one-vs-rest ``se_ecgnet_seed`` networks (42.7M parameters
each, random weights: only the time matters) on the beats, scores averaged per network.

Environment: ``BENCH_RECORDS`` (records for latency, default 60), ``BENCH_BATCH`` (records for throughput,
default all 434), ``BENCH_PROTO_RECORDS`` (records for the prototype, default 3).
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


def _latency(paths: list[Path]) -> list[float]:
    from cardioscreen.pipeline import Analyzer

    analyzer = Analyzer.load()
    for path in paths[:3]:
        analyzer.analyze_file(path)
    times = []
    for path in paths:
        start = time.perf_counter()
        analyzer.analyze_file(path)
        times.append(time.perf_counter() - start)
    return times


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


def _batch(paths: list[Path]) -> tuple[float, float, int]:
    """Wall seconds of ``cardioscreen analyze DIR --json --jobs 2``, peak RSS (MB) of one 1-job run, failures."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for hea in paths:
            shutil.copy(hea, folder)
            shutil.copy(hea.with_suffix(".dat"), folder)
        command = [sys.executable, "-m", "cardioscreen.cli", "analyze", str(folder), "--json"]
        start = time.perf_counter()
        proc = subprocess.run([*command, "--jobs", "2"], capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        failures = len(paths) - len(proc.stdout.splitlines())
        subprocess.run([*command[:-2], *map(str, paths[:20]), "--json", "--jobs", "1"], capture_output=True,
                       check=False)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak_mb, failures


def main() -> None:
    n_latency = int(os.environ.get("BENCH_RECORDS", "60"))
    n_batch = int(os.environ.get("BENCH_BATCH", "434"))
    n_proto = int(os.environ.get("BENCH_PROTO_RECORDS", "3"))
    wall, peak_mb, failures = _batch(_records(n_batch))
    single_core()
    latency = _latency(_records(n_latency))
    proto = _prototype_seconds(_records(n_proto))
    median_ms, proto_ms = 1000 * statistics.median(latency), 1000 * statistics.median(proto)
    print(f"Analyzer.analyze (read -> result, ONNX, 1 core), {len(latency)} PTB-XL 500 Hz 10 s records:")
    print(f"  median {median_ms:.1f} ms, p90 {1000 * float(np.percentile(latency, 90)):.1f} ms  (target <= 20 ms)")
    print(f"prototype pipeline (neurokit2 + 17 x se_ecgnet_seed), {len(proto)} records, 1 core:")
    print(f"  median {proto_ms:.0f} ms  -> speed-up {proto_ms / median_ms:.0f}x  (goal >= 300x)")
    print(f"cardioscreen analyze DIR --jobs 2 on {n_batch} records: {wall:.1f} s wall incl. start-up, "
          f"{n_batch / wall:.0f} records/s (target >= 100), {failures} failed")
    print(f"peak resident memory of one analyze process (20 records, --jobs 1): {peak_mb:.0f} MB (limit 600 MB)")
