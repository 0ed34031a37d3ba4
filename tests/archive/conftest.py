"""A mixed archive of 40 real records (PTB-XL WFDB format 16 and FLAC, CinC .hea/.mat, LUDB, the clinical formats),
laid out as a hospital's folders with files that are not ECGs among them, and its batch results."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from cardioscreen.archive.discovery import record_files

from .support import CLI, N_RECORDS, KilledAndResumed, batch, mixed_records, stored_rows


@pytest.fixture(scope="session")
def mixed_archive(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 40 records copied into ``archive/<source>/...`` (every file of each record), plus a README and a
    LUDB annotation file (not ECG records: skipped and counted)."""
    root = tmp_path_factory.mktemp("archive") / "archive"
    for record in mixed_records(shared_data):
        target = root / record.parent.relative_to(shared_data)
        target.mkdir(parents=True, exist_ok=True)
        for file in record_files(record):
            shutil.copy(file, target)
    (root / "README.txt").write_text("Archive export, 2026\n")
    shutil.copy(shared_data / "ludb" / "1.i", root / "ludb")
    return root


@pytest.fixture(scope="session")
def killed_and_resumed(mixed_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> KilledAndResumed:
    """``cardioscreen batch`` on a local 2-worker cluster, parts of 2 rows, killed (with its workers: SIGKILL to
    its process group) once 20 rows are stored; then the same command again."""
    out = tmp_path_factory.mktemp("results") / "results"
    args = [mixed_archive, "--out", out, "--cluster", "local", "--workers", "2", "--chunk", "2", "--part-rows", "2"]
    proc = subprocess.Popen([*CLI, "batch", *map(str, args), "--quiet"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 240
    try:
        while stored_rows(out) < N_RECORDS // 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the first run ended before it was killed"
    parts = {part: part.stat().st_mtime for part in out.glob("records/*/part-*.parquet")}
    rows = stored_rows(out)
    return KilledAndResumed(out, rows, parts, batch(*args, "--quiet"))
