"""Dask distributed vs Ray for ``cardioscreen batch``: start-up (2 local workers, each with the Analyzer loaded),
throughput and peak worker memory on the same PTB-XL records, the same job (:class:`RowJob`) and chunks of 16.

Each engine is measured where it imports: Dask is in the ``archive`` extra; Ray is not a dependency of the project
(see ``docs/guide/batch.md``), so its figures come from an environment that has it installed beside the project's.
Environment: ``BENCH_ENGINE_RECORDS`` (records, default 200).
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import psutil
from toolz import partition_all

from bench.batch_scale import _mib, _peak_rss
from bench.common import SHARED_DATA
from cardioscreen.archive.engine import ClusterSpec, run_dask
from cardioscreen.archive.job import RowJob
from cardioscreen.batch import guarded
from cardioscreen.pipeline import AnalyzerConfig

WORKERS = 2
CHUNK = 16


def _dask(paths: Sequence[Path]) -> tuple[float, float, int]:
    start = time.perf_counter()
    ready = start

    def on_ready(_threads: int) -> None:
        nonlocal ready
        ready = time.perf_counter()

    done = 0
    for chunk in run_dask(partial(RowJob, None, AnalyzerConfig()), partition_all(CHUNK, paths),
                          ClusterSpec(workers=WORKERS), on_ready=on_ready):
        done += sum(outcome.ok for outcome in chunk.outcomes)
    return ready - start, time.perf_counter() - ready, done


def _ray(paths: Sequence[Path]) -> tuple[float, float, int]:
    import ray
    from ray.util import ActorPool
    from threadpoolctl import threadpool_limits

    @ray.remote(num_cpus=1)
    class Worker:
        def __init__(self) -> None:
            threadpool_limits(1)
            self.job = RowJob(None, AnalyzerConfig())

        def run(self, chunk: Sequence[Path]) -> list[Any]:
            return [guarded(self.job, path) for path in chunk]

    start = time.perf_counter()
    ray.init(num_cpus=WORKERS, include_dashboard=False, log_to_driver=False)
    try:
        actors = [Worker.remote() for _ in range(WORKERS)]
        ray.get([actor.__ray_ready__.remote() for actor in actors])
        ready = time.perf_counter()
        pool = ActorPool(actors)
        done = 0
        for outcomes in pool.map_unordered(lambda actor, chunk: actor.run.remote(chunk), partition_all(CHUNK, paths)):
            done += sum(outcome.ok for outcome in outcomes)
        return ready - start, time.perf_counter() - ready, done
    finally:
        ray.shutdown()


_ENGINES = {"dask": (_dask, "distributed"), "ray": (_ray, "ray")}


def main() -> None:
    n = int(os.environ.get("BENCH_ENGINE_RECORDS", "200"))
    paths = sorted((SHARED_DATA / "ptbxl" / "records500").rglob("*.hea"))[:n]
    print(f"{len(paths)} PTB-XL records, {WORKERS} local workers, chunks of {CHUNK}, load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    for name, (run, module) in _ENGINES.items():
        if importlib.util.find_spec(module) is None:
            print(f"{name}: not installed here", flush=True)
            continue
        with _peak_rss(psutil.Process) as peaks:
            startup, seconds, done = run(paths)
        print(f"{name}: start-up {startup:.1f} s, {done} records in {seconds:.0f} s = {done / seconds:.2f} records/s, "
              f"peak RSS of the largest {WORKERS} processes: {_mib(peaks, WORKERS)}", flush=True)


if __name__ == "__main__":
    main()
