"""Output identity of ``Analyzer.analyze``: save every result of a fixed set of real records, or compare with a save.

A speed change must not change what the analysis outputs. This runs the shipped Analyzer (English, with the
Russian wording as a translation) on 300 PTB-XL 500 Hz records spread over ``ptbxl/records500`` (format 16 and
FLAC) and on the 74 PhysioNet/CinC Challenge records, and keeps each full result: every field of
:class:`~cardioscreen.result.AnalysisResult` but the saliency, with the probabilities and thresholds unrounded
and the R-peaks and fiducials as arrays (the ``--json`` form rounds probabilities to 4 digits, which would hide a
change). Run it once before a change (it writes the file), then again after: it compares every value, floats
within ``1e-9`` relative, and counts the bit-identical ones.

Environment: ``BENCH_IDENTITY_FILE`` (default ``/tmp/analyze_identity.pkl``): written when absent, compared with
when present; ``BENCH_IDENTITY_RECORDS`` (PTB-XL records, default 300).
"""

from __future__ import annotations

import logging
import math
import os
import pickle
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import SHARED_DATA, single_core

REL_TOL = 1e-9


def _paths(n_ptbxl: int) -> list[Path]:
    ptbxl = sorted((SHARED_DATA / "ptbxl" / "records500").rglob("*.hea"))
    step = max(1, len(ptbxl) // max(n_ptbxl, 1))
    return ptbxl[::step][:n_ptbxl] + sorted((SHARED_DATA / "challenge").rglob("*.hea"))


def _plain(value: Any) -> Any:
    """``value`` as nested dicts, lists, scalars and arrays (dataclasses by field)."""
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _results(paths: list[Path]) -> dict[str, Any]:
    from cardioscreen.errors import CardioScreenError
    from cardioscreen.pipeline import Analyzer, AnalyzerConfig

    analyzer = Analyzer.load(config=AnalyzerConfig(translations=("ru",)))
    out: dict[str, Any] = {}
    for path in paths:
        key = str(path.relative_to(SHARED_DATA))
        try:
            _, result = analyzer.analyze_file(path)
        except CardioScreenError as exc:
            out[key] = {"error": str(exc)}
            continue
        out[key] = _plain({f.name: getattr(result, f.name) for f in fields(result) if f.name != "saliency"})
    return out


class _Compare:
    def __init__(self) -> None:
        self.differences: list[str] = []
        self.floats = self.identical = 0

    def __call__(self, a: Any, b: Any, where: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            if a.keys() != b.keys():
                self.differences.append(f"{where}: keys {sorted(a)} != {sorted(b)}")
            for k in a.keys() & b.keys():
                self(a[k], b[k], f"{where}.{k}")
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                self.differences.append(f"{where}: {len(a)} items != {len(b)}")
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                self(x, y, f"{where}[{i}]")
        elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            x, y = np.asarray(a), np.asarray(b)
            if x.shape != y.shape or x.dtype != y.dtype:
                self.differences.append(f"{where}: array {x.dtype}{x.shape} != {y.dtype}{y.shape}")
            elif x.dtype.kind == "f":
                self.floats += x.size
                self.identical += int(np.sum((x == y) | (np.isnan(x) & np.isnan(y))))
                if not np.allclose(x, y, rtol=REL_TOL, atol=0.0, equal_nan=True):
                    self.differences.append(f"{where}: arrays differ, max |diff| {np.nanmax(np.abs(x - y)):.3g}")
            elif not np.array_equal(x, y):
                self.differences.append(f"{where}: arrays differ")
        elif isinstance(a, float) and isinstance(b, float):
            self.floats += 1
            same = a == b or (math.isnan(a) and math.isnan(b))
            self.identical += same
            if not same and not math.isclose(a, b, rel_tol=REL_TOL, abs_tol=0.0):
                self.differences.append(f"{where}: {a!r} != {b!r}")
        elif type(a) is not type(b) or a != b:
            self.differences.append(f"{where}: {a!r} != {b!r}")


def main() -> None:
    single_core()
    logging.getLogger("cardioscreen").setLevel(logging.ERROR)
    target = Path(os.environ.get("BENCH_IDENTITY_FILE", "/tmp/analyze_identity.pkl"))
    paths = _paths(int(os.environ.get("BENCH_IDENTITY_RECORDS", "300")))
    results = _results(paths)
    if not target.exists():
        target.write_bytes(pickle.dumps(results))
        print(f"{len(results)} results written to {target}")
        return
    reference = pickle.loads(target.read_bytes())  # noqa: S301 - a file this benchmark wrote itself
    compare = _Compare()
    compare(reference, results, "")
    print(f"{len(results)} records against {target}: {len(compare.differences)} differences; "
          f"{compare.identical} of {compare.floats} floats bit-identical")
    for line in compare.differences[:30]:
        print("  " + line)
