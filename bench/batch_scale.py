"""``cardioscreen batch`` scaling: records/s with 1 and 2 local Dask workers vs ``analyze --jobs 2`` on the same
PTB-XL records (all 2,486 of ``ptbxl/records500`` by default), start-up, peak memory per worker, and a projection of
a 1-million-record archive to N machines from the measured per-worker rate.

Environment: ``BENCH_BATCH_RECORDS`` (records, default all), ``BENCH_BATCH_WORKERS`` (worker counts, default "2,1"),
``BENCH_MACHINE_CORES`` (workers per machine in the projection, default 16).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import psutil

from bench.common import SHARED_DATA
from cardioscreen.archive.engine import ClusterSpec
from cardioscreen.archive.runner import BatchConfig, run_batch

ARCHIVE_SIZE = 1_000_000


@contextmanager
def _peak_rss(root: Callable[[], psutil.Process]) -> Iterator[dict[int, int]]:
    """Peak resident memory (bytes) of each descendant process of ``root()``, sampled every 0.25 s."""
    peaks: dict[int, int] = {}
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.25):
            try:
                children = root().children(recursive=True)
            except psutil.Error:
                continue
            for child in children:
                with suppress(psutil.Error):
                    peaks[child.pid] = max(peaks.get(child.pid, 0), child.memory_info().rss)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        stop.set()
        thread.join()


def _mib(peaks: dict[int, int], n: int) -> str:
    top = sorted(peaks.values(), reverse=True)[:n]
    return ", ".join(f"{value / 2**20:.0f}" for value in top) + " MiB"


def _folder(limit: int | None) -> Path:
    """The records folder, or a folder of links to its first ``limit`` records."""
    source = SHARED_DATA / "ptbxl" / "records500"
    if limit is None:
        return source
    target = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    for header in sorted(source.rglob("*.hea"))[:limit]:
        for file in header.parent.glob(f"{header.stem}*"):
            (target / file.name).symlink_to(file)
    return target


def _batch(folder: Path, workers: int) -> float:
    with tempfile.TemporaryDirectory() as out, _peak_rss(psutil.Process) as peaks:
        start = time.perf_counter()
        summary = run_batch(BatchConfig(sources=(folder,), out=Path(out), cluster=ClusterSpec(workers=workers),
                                        progress=False))
        wall = time.perf_counter() - start
    print(f"batch --workers {workers}: {summary.analysed} analysed, {summary.failed} failed in {wall:.0f} s "
          f"(start-up {summary.startup_s:.1f} s): {summary.rate:.2f} records/s after start-up, "
          f"{summary.found / wall:.2f} records/s overall; peak RSS of the largest {workers} processes "
          f"(the workers): {_mib(peaks, workers)}", flush=True)
    return summary.rate / workers


def _analyze(folder: Path, n: int) -> None:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cardioscreen.cli", "analyze", str(folder), "--json", "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with _peak_rss(lambda: psutil.Process(proc.pid)) as peaks:
        proc.wait()
    wall = time.perf_counter() - start
    print(f"analyze --jobs 2: {n} records in {wall:.0f} s (start-up included): {n / wall:.2f} records/s; "
          f"peak RSS of its 2 worker processes: {_mib(peaks, 2)}", flush=True)


def main() -> None:
    raw = os.environ.get("BENCH_BATCH_RECORDS")
    folder = _folder(int(raw) if raw else None)
    n = sum(1 for _ in folder.rglob("*.hea"))
    counts = [int(w) for w in os.environ.get("BENCH_BATCH_WORKERS", "2,1").split(",")]
    cores = int(os.environ.get("BENCH_MACHINE_CORES", "16"))
    print(f"{n} PTB-XL records, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    per_worker = {workers: _batch(folder, workers) for workers in counts}
    _analyze(folder, n)
    rate = min(per_worker.values())
    core_hours = ARCHIVE_SIZE / rate / 3600
    print(f"projection (per-worker rate {rate:.2f} records/s, the lowest measured; {cores} workers a machine): "
          f"{ARCHIVE_SIZE:,} records = {core_hours:.0f} worker-hours = {core_hours / cores:.1f} machine-hours; "
          + ", ".join(f"{m} machine{'s' if m > 1 else ''}: {core_hours / cores / m:.1f} h" for m in (1, 4, 16, 64)),
          flush=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end", flush=True)


if __name__ == "__main__":
    main()
