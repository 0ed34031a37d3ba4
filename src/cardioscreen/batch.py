"""Many files at once: expanding folders into ECG files and mapping a job over them on several cores.

A file that fails is reported on its own and the batch goes on.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from tqdm import tqdm

from cardioscreen.errors import CardioScreenError, ECGFormatError
from cardioscreen.io import csv_format
from cardioscreen.io.registry import detect_format
from cardioscreen.io.wfdb_format import signal_file_names

logger = logging.getLogger(__name__)

T = TypeVar("T")

WFDB_DATA_SUFFIXES = (".dat", ".mat")
"""Signal files read through the ``.hea`` header beside them, never as records of their own."""


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What one file gave: a value, or the one-line error that stopped it."""

    path: Path
    value: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _is_part_of_record(path: Path) -> bool:
    """Hidden files and WFDB signal files, read through their header: neither a record nor something to report."""
    return path.name.startswith(".") or (path.suffix.lower() in WFDB_DATA_SUFFIXES
                                         and path.with_suffix(".hea").exists())


def _is_record_file(path: Path) -> bool:
    """Whether a file found in a folder is an ECG record: its format is recognised and, for CSV (recognised by its
    extension or a lead name in its first row), it starts as a table of samples does."""
    try:
        fmt = detect_format(path)
    except CardioScreenError:
        return False
    return fmt != "csv" or csv_format.has_lead_table(path)


def _signal_files_named(files: Sequence[Path]) -> set[Path]:
    """Signal files that the WFDB headers among ``files`` name (PTB-XL's FLAC records: ``01001_hr_1.dat``...)."""
    return {header.parent / name for header in files if header.suffix.lower() == ".hea"
            for name in signal_file_names(header.read_bytes())}


@dataclass(frozen=True)
class Inputs:
    """The files to process, and the files found in folders that are not ECG records (skipped, counted)."""

    files: list[Path]
    skipped: list[Path]


def expand_inputs(paths: Iterable[str | Path]) -> Inputs:
    """Files named directly, plus every ECG record found (recursively) in the folders named.

    Files named directly are kept even when unreadable so that their error is reported; files in a folder that
    are not ECG records (READMEs, annotation files, LUDB's ``ludb.csv`` table of patients) are skipped.
    """
    found: list[Path] = []
    skipped: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            in_dir: list[Path] = []
            others: list[Path] = []
            files = sorted(p for p in path.rglob("*") if p.is_file())
            named = _signal_files_named(files)
            for candidate in files:
                if candidate in named or _is_part_of_record(candidate):
                    continue
                (in_dir if _is_record_file(candidate) else others).append(candidate)
            if not in_dir:
                raise ECGFormatError(f"no ECG files found in folder {path}")
            found.extend(in_dir)
            skipped.extend(others)
        else:
            found.append(path)
    return Inputs(found, skipped)


def guarded(job: Callable[[Path], T], path: Path) -> Outcome[T]:
    """``job(path)`` as an :class:`Outcome`: its value, or the one-line error of any exception it raised."""
    try:
        return Outcome(path, value=job(path))
    except CardioScreenError as exc:
        return Outcome(path, error=str(exc))
    except Exception as exc:  # noqa: BLE001 - a batch must survive any one file; the error is reported
        logger.debug("unexpected failure on %s", path, exc_info=True)
        return Outcome(path, error=f"{type(exc).__name__}: {exc}")


_WORKER_JOB: Callable[[Path], Any] | None = None


def _init_worker(make_job: Callable[[], Callable[[Path], Any]]) -> None:
    """One core per worker: BLAS/OpenMP pools limited to one thread (they stall on small products otherwise)."""
    global _WORKER_JOB
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    _WORKER_JOB = make_job()


def _run_in_worker(path: Path) -> Outcome[Any]:
    assert _WORKER_JOB is not None, "worker not initialised"
    return guarded(_WORKER_JOB, path)


def map_files(
    make_job: Callable[[], Callable[[Path], T]],
    paths: Sequence[Path],
    *,
    jobs: int | None = None,
    progress: bool = True,
) -> Iterator[Outcome[T]]:
    """Run a job on every file, in input order, on ``jobs`` processes.

    Parameters
    ----------
    make_job : callable
        Picklable factory, called once per worker process, returning the per-file job (so that a model is
        loaded once per process, not once per file).
    paths : sequence of Path
        Files to process.
    jobs : int, optional
        Worker processes; default: the CPUs available. One job (or one file) runs in this process.
    progress : bool
        Show a progress bar on stderr.
    """
    n_jobs = max(1, min(jobs or len(os.sched_getaffinity(0)), len(paths)))
    bar = tqdm(total=len(paths), unit="rec", disable=not progress or len(paths) < 2, leave=False)
    try:
        if n_jobs == 1:
            job = make_job()
            for path in paths:
                yield guarded(job, path)
                bar.update()
            return
        chunk = max(1, min(8, len(paths) // (n_jobs * 8)))  # small chunks: no worker idles long at the end
        with ProcessPoolExecutor(n_jobs, initializer=_init_worker, initargs=(make_job,)) as pool:
            for outcome in pool.map(_run_in_worker, paths, chunksize=chunk):
                yield outcome
                bar.update()
    finally:
        bar.close()
