"""Helpers of the archive tests: the mixed archive's records, running ``cardioscreen batch``, counting stored rows."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

CLI = [sys.executable, "-m", "cardioscreen.cli"]
N_RECORDS = 40


def _ptbxl(shared: Path, folder: str, count: int) -> list[Path]:
    return sorted((shared / "ptbxl" / "records500" / folder).glob("*_hr.hea"))[:count]


def mixed_records(shared: Path) -> list[Path]:
    """The 40 records: 10 PTB-XL format 16, 10 PTB-XL FLAC, 10 CinC (Georgia, Chapman-Ningbo, CPSC), 4 LUDB and the
    6 clinical-format files (DICOM, SCP, HL7 aECG, Philips Sierra 1.03/1.04, GE MUSE)."""
    challenge = shared / "challenge"
    chosen = (_ptbxl(shared, "00000", 10) + _ptbxl(shared, "01000", 10)
              + sorted((challenge / "georgia").glob("*.hea"))[:4]
              + sorted((challenge / "chapman-ningbo").glob("*.hea"))[:3]
              + sorted((challenge / "cpsc").glob("*.hea"))[:3]
              + [shared / "ludb" / f"{n}.hea" for n in (1, 3, 5, 7)]
              + sorted(p for p in (shared / "formats").rglob("*") if p.suffix.lower() in (".dcm", ".scp", ".xml")))
    assert len(chosen) == N_RECORDS
    return chosen


def batch(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "batch", *map(str, args)], capture_output=True, text=True, timeout=timeout)


def stored_rows(out: Path) -> int:
    return sum(pq.read_metadata(part).num_rows for part in out.glob("records/*/part-*.parquet"))


@dataclass(frozen=True)
class KilledAndResumed:
    """A batch of the mixed archive killed after about half its rows, then run again to the end."""

    out: Path
    rows_at_kill: int
    parts_at_kill: dict[Path, float]
    rerun: subprocess.CompletedProcess[str]
