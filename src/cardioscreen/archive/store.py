"""A results folder: Parquet parts appended one at a time, partitioned by model version.

::

    RESULTS/records/<model_version>/part-<time>-<id>.parquet     one row per analysed record (rows.row_schema)
    RESULTS/records/<model_version>/_settings.json               the analysis settings every part was made with
    RESULTS/failures/<model_version>/part-<time>-<id>.parquet    records without a result (rows.FAILURES)

A part is written to a hidden temporary file and renamed into place, so a crash leaves either the whole part or
nothing. ``pandas.read_parquet(RESULTS / "records" / version)`` reads one model version's rows (names starting with
``.`` or ``_`` are not data to Arrow).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cardioscreen.archive.rows import FAILURES, RETRIED_STAGES
from cardioscreen.errors import CardioScreenError

RECORDS = "records"
FAILED = "failures"
SETTINGS = "_settings.json"


class ResultStore:
    """The results folder ``root`` (created on first write)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise CardioScreenError(f"results folder {self.root} is a file")

    def folder(self, kind: str, model_version: str) -> Path:
        return self.root / kind / model_version

    def model_versions(self) -> list[str]:
        """Model versions with stored rows, oldest first (by their settings file)."""
        base = self.root / RECORDS
        if not base.is_dir():
            return []
        folders = [f for f in base.iterdir() if f.is_dir() and any(f.glob("part-*.parquet"))]
        return [f.name for f in sorted(folders, key=lambda f: ((f / SETTINGS).stat().st_mtime
                                                               if (f / SETTINGS).exists() else 0.0, f.name))]

    def check_settings(self, model_version: str, settings: dict[str, Any]) -> None:
        """Record the analysis settings of ``model_version``'s rows, or refuse settings that differ from those
        already stored (rows made with another language or mains filter are not the same analysis)."""
        folder = self.folder(RECORDS, model_version)
        path = folder / SETTINGS
        if path.exists():
            stored = json.loads(path.read_text())
            if stored != settings:
                keys = sorted(key for key in set(stored) | set(settings) if stored.get(key) != settings.get(key))
                changed = ", ".join(f"{key} {stored.get(key)!r} -> {settings.get(key)!r}" for key in keys)
                raise CardioScreenError(f"{self.root} holds results of model {model_version} made with other settings "
                                        f"({changed}); use another --out folder")
            return
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, json.dumps(settings, sort_keys=True).encode())

    def done(self, model_version: str) -> set[str]:
        """Content hashes already stored for ``model_version``: rows, and failures that a rerun would repeat."""
        hashes = set(self.read(RECORDS, model_version, ["content_sha256"]).column("content_sha256").to_pylist())
        failures = self.read(FAILED, model_version, ["content_sha256", "stage"]).to_pylist()
        hashes.update(f["content_sha256"] for f in failures
                      if f["content_sha256"] is not None and f["stage"] not in RETRIED_STAGES)
        return hashes

    def append(self, kind: str, model_version: str, table: pa.Table) -> Path | None:
        """Write ``table`` as a new part of ``kind`` (``records`` or ``failures``); nothing for an empty table."""
        if table.num_rows == 0:
            return None
        folder = self.folder(kind, model_version)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"part-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
        return path

    def read(self, kind: str, model_version: str, columns: list[str] | None = None) -> pa.Table:
        """Every stored row of ``kind`` for ``model_version``: ``columns`` of them (all by default). No part yet
        gives an empty table: of the failures schema for failures, of ``columns`` as text for records."""
        folder = self.folder(kind, model_version)
        parts = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
        if parts:
            return ds.dataset([str(p) for p in parts], format="parquet").to_table(columns=columns)
        empty = FAILURES if kind == FAILED else pa.schema([(name, pa.string()) for name in columns or ()])
        return empty.empty_table() if columns is None else empty.empty_table().select(columns)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
