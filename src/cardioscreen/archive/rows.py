"""One table row per analysed record, and the failures table: the columns of a results folder's Parquet files.

A row holds the record's identity (``record``, ``path``, ``content_sha256``, ``model_version``), its quality verdict,
rhythm, interpretation summary and statement codes, the intervals, age and sex where the file stores them, every
class probability ``p_<task>_<code>`` and flag ``flag_<task>_<code>`` (null for a refused record), and
``result_json``: the record's full result exactly as ``cardioscreen analyze --json`` prints it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from cardioscreen.models.bundle import Label

INTERVALS = ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms", "qtc_framingham_ms",
             "p_axis_deg", "qrs_axis_deg", "t_axis_deg")
"""Interval measurements (ms, beats/min, degrees) copied from the result into columns of their own."""

_BASE = pa.schema([
    ("record", pa.string()),
    ("path", pa.string()),
    ("content_sha256", pa.string()),
    ("model_version", pa.string()),
    ("quality", pa.string()),
    ("quality_reasons", pa.list_(pa.string())),
    ("refused", pa.bool_()),
    ("refusal", pa.string()),
    ("rhythm", pa.string()),
    ("rhythm_name", pa.string()),
    ("summary", pa.string()),
    ("urgent", pa.bool_()),
    ("statements", pa.list_(pa.string())),
    ("age", pa.float64()),
    ("sex", pa.string()),
    ("fs", pa.float64()),
    ("n_beats", pa.int64()),
    *((name, pa.float64()) for name in INTERVALS),
    ("result_json", pa.string()),
])

FAILURES = pa.schema([
    ("path", pa.string()),
    ("content_sha256", pa.string()),
    ("model_version", pa.string()),
    ("stage", pa.string()),
    ("error", pa.string()),
])
"""A record that gave no result: ``stage`` is ``read`` (its files could not be read for hashing), ``analysis`` (the
analysis raised: an unreadable or malformed file) or ``worker`` (the worker running it was lost; retried on rerun)."""

RETRIED_STAGES = ("read", "worker")
"""Failure stages that a rerun tries again (the others would fail the same way on the same content and model)."""


def probability_column(label: Label) -> str:
    """``p_<task>_<code>``, e.g. ``p_seed17_NORM``."""
    return f"p_{label.task}_{label.code}"


def flag_column(label: Label) -> str:
    """``flag_<task>_<code>``, e.g. ``flag_superdiagnostic_MI``."""
    return f"flag_{label.task}_{label.code}"


def row_schema(labels: Iterable[Label]) -> pa.Schema:
    """The records table's schema for a model with ``labels``."""
    schema = _BASE
    for label in labels:
        schema = schema.append(pa.field(probability_column(label), pa.float64()))
        schema = schema.append(pa.field(flag_column(label), pa.bool_()))
    return schema


def result_row(path: Path, result: Mapping[str, Any], meta: Mapping[str, Any], model_version: str) -> dict[str, Any]:
    """The row of one analysed record (``content_sha256`` is left for the caller, who hashed the files).

    Parameters
    ----------
    path : Path
        The record's file.
    result : mapping
        ``AnalysisResult.to_dict()``.
    meta : mapping
        The record's ``meta`` (``age`` in years and ``sex`` ``"M"``/``"F"`` where the file stores them).
    model_version : str
        The Analyzer's model version.
    """
    rhythm = result.get("rhythm") or {}
    interpretation = result.get("interpretation") or {}
    intervals = result.get("intervals") or {}
    age = meta.get("age")
    row: dict[str, Any] = {
        "record": result["record"],
        "path": str(path),
        "content_sha256": None,
        "model_version": model_version,
        "quality": result["quality"].get("verdict"),
        "quality_reasons": list(result["quality"].get("reasons") or ()),
        "refused": bool(result["refused"]),
        "refusal": result.get("refusal"),
        "rhythm": rhythm.get("code"),
        "rhythm_name": rhythm.get("name"),
        "summary": interpretation.get("summary"),
        "urgent": bool(interpretation.get("urgent", False)),
        "statements": [statement["code"] for statement in interpretation.get("statements") or ()],
        "age": float(age) if isinstance(age, int | float) else None,
        "sex": meta.get("sex") if isinstance(meta.get("sex"), str) else None,
        "fs": float(result["fs"]),
        "n_beats": int(result["n_beats"]),
        **{name: _number(intervals.get(name)) for name in INTERVALS},
        "result_json": json.dumps(result),
    }
    for prediction in result.get("predictions") or ():
        label = Label(code=prediction["code"], task=prediction["task"])
        row[probability_column(label)] = float(prediction["probability"])
        row[flag_column(label)] = bool(prediction["flagged"])
    return row


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
