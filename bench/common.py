"""Helpers shared by the benchmarks: where the real data lies, and a timer."""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CARDIOSCREEN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def median_seconds(fn: Callable[[], object], repeats: int = 20, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def single_core() -> None:
    """Pin this process (and torch, if imported later) to one CPU thread for per-core timings."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass


def fork_map(fn: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R]:
    """``[fn(item) for item in items]`` over up to ``jobs`` forked processes, one item each, results in order.

    Forked workers see the parent's memory as it was (large training arrays are shared, not pickled); ``fn`` must
    be a module-level function and the items small."""
    if jobs <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with multiprocessing.get_context("fork").Pool(min(jobs, len(items)), maxtasksperchild=1) as pool:
        return pool.map(fn, items, chunksize=1)
