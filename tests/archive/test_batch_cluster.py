"""``cardioscreen batch --cluster ADDRESS`` on a cluster started as it would be on several machines: a ``dask
scheduler`` process and two ``dask worker`` processes of their own (each with its own working folder), the batch
command a client that connects to the scheduler; its rows equal ``cardioscreen analyze --json`` on the same files."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from cardioscreen.archive.discovery import find_records

from .support import CLI, batch, mixed_records

N_CLUSTER_RECORDS = 6


def _dask(*args: str | Path, log: Path) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).with_name("dask")), *map(str, args)]
    with log.open("wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.fixture(scope="module")
def scheduler_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A scheduler and two single-threaded workers, each its own process group, as on three machines."""
    work = tmp_path_factory.mktemp("cluster")
    scheduler_file = work / "scheduler.json"
    procs = [_dask("scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", scheduler_file,
                   log=work / "scheduler.log")]
    try:
        deadline = time.monotonic() + 120
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scheduler_file.is_file(), (work / "scheduler.log").read_text()
        for n in (1, 2):
            folder = work / f"machine-{n}"
            folder.mkdir()
            procs.append(_dask("worker", "--scheduler-file", scheduler_file, "--nworkers", "1", "--nthreads", "1",
                               "--no-dashboard", "--local-directory", folder, "--name", f"machine-{n}",
                               log=work / f"worker-{n}.log"))
        yield str(json.loads(scheduler_file.read_text())["address"])
    finally:
        for proc in reversed(procs):
            _stop(proc)


@pytest.fixture(scope="module")
def small_archive(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first records of the mixed archive's list (PTB-XL format 16), copied."""
    root = tmp_path_factory.mktemp("small-archive")
    for record in mixed_records(shared_data)[:N_CLUSTER_RECORDS]:
        for file in record.parent.glob(record.stem + ".*"):
            shutil.copy(file, root)
    return root


def test_batch_on_a_scheduler_address_equals_analyze(scheduler_address: str, small_archive: Path,
                                                     tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = batch(small_archive, "--out", out, "--cluster", scheduler_address, "--quiet", timeout=400)
    assert proc.returncode == 0, proc.stderr
    assert f"{N_CLUSTER_RECORDS} analysed, 0 failed" in proc.stderr, proc.stderr
    (versions,) = list((out / "records").iterdir())
    rows = pd.read_parquet(versions)
    analyzed = subprocess.run([*CLI, "analyze", str(small_archive), "--json"], capture_output=True, text=True,
                              timeout=300)
    assert analyzed.returncode == 0, analyzed.stderr
    files = find_records([small_archive]).files
    expected = {str(path): json.loads(line) for path, line in zip(files, analyzed.stdout.splitlines(), strict=True)}
    assert len(rows) == len(expected) == N_CLUSTER_RECORDS
    for row in rows.itertuples():
        assert json.loads(row.result_json) == expected[row.path], row.path
