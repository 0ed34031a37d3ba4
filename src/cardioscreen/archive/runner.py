"""``cardioscreen batch``: an archive's records analysed on a cluster into a resumable Parquet results folder.

Records are found (:mod:`~cardioscreen.archive.discovery`), hashed, and those already stored for this model version
with the same content hash are skipped; the rest go to the engine in chunks, and rows are appended to the results
folder a part at a time (every ``part_rows`` rows or ``part_seconds`` seconds), so a crash loses at most the rows not
yet written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
from toolz import partition_all
from tqdm import tqdm

from cardioscreen.archive.discovery import find_records, hash_records
from cardioscreen.archive.engine import ENGINES, ChunkDone, ClusterSpec
from cardioscreen.archive.job import RowJob
from cardioscreen.archive.rows import FAILURES, row_schema
from cardioscreen.archive.store import FAILED, RECORDS, ResultStore
from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import content_hash, load_bundle
from cardioscreen.pipeline import Analyzer, AnalyzerConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchConfig:
    """One ``cardioscreen batch`` run.

    Attributes
    ----------
    sources : tuple of Path
        Files and folders (searched recursively).
    out : Path
        The results folder.
    cluster : ClusterSpec
        Where the workers run.
    engine : str
        Key of :data:`~cardioscreen.archive.engine.ENGINES`.
    glob, limit : str or None, int or None
        Keep records matching a shell pattern / the first ``limit`` records.
    model : Path or None
        Model bundle (None: the shipped model; on a remote cluster, the workers' own).
    analyzer : AnalyzerConfig
        Language and mains filter (explanations are never computed in a batch).
    chunk : int
        Files per task.
    part_rows, part_seconds : int, float
        A part is written once this many rows are waiting, or this long after the last one.
    progress : bool
        Progress bars on stderr.
    """

    sources: tuple[Path, ...]
    out: Path
    cluster: ClusterSpec = field(default_factory=ClusterSpec)
    engine: str = "dask"
    glob: str | None = None
    limit: int | None = None
    model: Path | None = None
    analyzer: AnalyzerConfig = field(default_factory=AnalyzerConfig)
    chunk: int = 16
    part_rows: int = 512
    part_seconds: float = 30.0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise CardioScreenError(f"engine {self.engine!r} is not one of {sorted(ENGINES)}")
        if self.analyzer.explain:
            raise CardioScreenError("a batch stores no explanations: use an AnalyzerConfig without explain")
        if self.chunk < 1 or self.part_rows < 1 or self.part_seconds <= 0:
            raise CardioScreenError("chunk and part rows must be at least 1, part seconds positive")


@dataclass
class BatchSummary:
    """What a run did (counts of records, except ``skipped_files``; seconds)."""

    model_version: str
    found: int = 0
    skipped_files: int = 0
    already_done: int = 0
    duplicates: int = 0
    analysed: int = 0
    failed: int = 0
    startup_s: float = 0.0
    analysis_s: float = 0.0

    @property
    def rate(self) -> float:
        """Records analysed (or failed) per second of analysis, start-up excluded."""
        return (self.analysed + self.failed) / self.analysis_s if self.analysis_s > 0 else 0.0


class _Writer:
    """Rows and failures waiting to be written, flushed as parts of the results folder."""

    def __init__(self, store: ResultStore, model_version: str, schema: pa.Schema, config: BatchConfig) -> None:
        self.store, self.model_version, self.schema, self.config = store, model_version, schema, config
        self.rows: list[dict[str, Any]] = []
        self.failures: list[dict[str, Any]] = []
        self.last = time.monotonic()

    def add_row(self, row: dict[str, Any]) -> None:
        if row["model_version"] != self.model_version:
            raise CardioScreenError(f"a worker analysed {row['path']} with model {row['model_version']}, this run "
                                    f"uses {self.model_version}: give the workers the same --model")
        self.rows.append(row)

    def add_failure(self, path: Path, sha: str | None, stage: str, error: str) -> None:
        self.failures.append({"path": str(path), "content_sha256": sha, "model_version": self.model_version,
                              "stage": stage, "error": error})

    def maybe_flush(self) -> None:
        waiting = len(self.rows) + len(self.failures)
        if waiting >= self.config.part_rows or (waiting and time.monotonic() - self.last >= self.config.part_seconds):
            self.flush()

    def flush(self) -> None:
        self.store.append(RECORDS, self.model_version, pa.Table.from_pylist(self.rows, schema=self.schema))
        self.store.append(FAILED, self.model_version, pa.Table.from_pylist(self.failures, schema=FAILURES))
        self.rows, self.failures, self.last = [], [], time.monotonic()


def _todo(paths: Sequence[Path], hashes: Sequence[str | CardioScreenError], done: set[str], writer: _Writer,
          summary: BatchSummary) -> list[tuple[Path, str]]:
    """Records still to analyse, with their hashes: not stored yet, and each content once."""
    todo: dict[str, Path] = {}
    for path, sha in zip(paths, hashes, strict=True):
        if isinstance(sha, CardioScreenError):
            writer.add_failure(path, None, "read", str(sha))
        elif sha in done:
            summary.already_done += 1
        elif sha in todo:
            summary.duplicates += 1
            logger.info("%s has the content of %s: analysed once", path, todo[sha])
        else:
            todo[sha] = path
    return [(path, sha) for sha, path in todo.items()]


def run_batch(config: BatchConfig) -> BatchSummary:
    """Analyse the records of ``config.sources`` not yet in ``config.out`` and append their rows there."""
    bundle_path = Analyzer.check_bundle(config.model)
    model_version = content_hash(bundle_path)
    schema = row_schema(load_bundle(bundle_path, lazy_model=True).labels)
    store = ResultStore(config.out)
    store.check_settings(model_version, {"lang": config.analyzer.lang, "powerline_hz": config.analyzer.powerline_hz,
                                         "backend": config.analyzer.backend})
    found = find_records(config.sources, glob=config.glob, limit=config.limit)
    summary = BatchSummary(model_version, found=len(found.files), skipped_files=len(found.skipped))
    writer = _Writer(store, model_version, schema, config)
    hashes = hash_records(found.files, progress=config.progress)
    todo = _todo(found.files, hashes, store.done(model_version), writer, summary)
    summary.failed = len(writer.failures)
    try:
        if todo:
            _analyse(config, todo, writer, summary)
    finally:
        writer.flush()
    return summary


def _analyse(config: BatchConfig, todo: list[tuple[Path, str]], writer: _Writer, summary: BatchSummary) -> None:
    hashes = dict(todo)
    make_job = partial(RowJob, bundle=config.model, config=config.analyzer)
    chunks: Iterator[tuple[Path, ...]] = partition_all(config.chunk, (path for path, _ in todo))
    run = ENGINES[config.engine]
    started = time.perf_counter()
    ready = started
    with tqdm(total=len(todo), unit="rec", desc="analysing", disable=not config.progress, smoothing=0.1) as bar:

        def on_ready(threads: int) -> None:
            nonlocal ready
            ready = time.perf_counter()
            logger.info("%d worker threads ready after %.1f s", threads, ready - started)
            bar.reset()  # records/s and the ETA count from here, not from the cluster's start

        for done in run(make_job, chunks, config.cluster, on_ready=on_ready):
            _collect(done, hashes, writer, summary)
            bar.update(len(done.paths))
            bar.set_postfix(failed=summary.failed, refresh=False)
            writer.maybe_flush()
    summary.startup_s = ready - started
    summary.analysis_s = time.perf_counter() - ready


def _collect(done: ChunkDone, hashes: dict[Path, str], writer: _Writer, summary: BatchSummary) -> None:
    if done.lost is not None:
        for path in done.paths:
            writer.add_failure(path, hashes[path], "worker", done.lost)
        summary.failed += len(done.paths)
        return
    for outcome in done.outcomes:
        if outcome.ok and outcome.value is not None:
            writer.add_row({**outcome.value, "content_sha256": hashes[outcome.path]})
            summary.analysed += 1
        else:
            writer.add_failure(outcome.path, hashes[outcome.path], "analysis", outcome.error or "no result")
            summary.failed += 1
