"""The sandbox that reads and analyses uploads in worker processes: same results as in the server process, and a job
that passes its time, CPU or memory limit costs that job only (its worker is replaced, the pool carries on)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from cardioscreen.errors import CardioScreenError, ECGFormatError
from cardioscreen.io import read_ecg
from cardioscreen.record import ECGRecord
from cardioscreen.web.analysis import AnalyzeFn
from cardioscreen.web.sandbox import JobFailedError, Limits, Sandbox

from .conftest import AppFactory
from .support import Browser, npz_bomb

GIB = 2**30


@pytest.fixture
def sandbox_with(analyze: AnalyzeFn, explain: AnalyzeFn) -> Iterator:
    made: list[Sandbox] = []

    def make(**limits: float) -> Sandbox:
        made.append(Sandbox(analyze, explain, size=1, limits=Limits(**{"memory_bytes": 3 * GIB, "cpu_s": 120,
                                                                        "wall_s": 120.0, **limits})))
        return made[-1]

    yield make
    for sandbox in made:
        sandbox.close()


def test_read_and_analysis_in_a_worker_equal_the_server_process(sandbox_with, ptbxl_headers: list[Path],
                                                                 analyze: AnalyzeFn) -> None:
    sandbox = sandbox_with()
    header = ptbxl_headers[0]
    record = sandbox.run("read", header)
    np.testing.assert_array_equal(record.signal, read_ecg(header).signal)
    assert record.leads == read_ecg(header).leads
    assert sandbox.run("analyze", record).to_dict() == analyze(record).to_dict()


def test_a_format_error_comes_back_as_itself(sandbox_with, ptbxl_headers: list[Path], tmp_path: Path) -> None:
    truncated = tmp_path / ptbxl_headers[0].name
    truncated.write_bytes(ptbxl_headers[0].read_bytes())
    truncated.with_suffix(".dat").write_bytes(ptbxl_headers[0].with_suffix(".dat").read_bytes()[:1000])
    with pytest.raises(ECGFormatError, match="is truncated"):
        sandbox_with().run("read", truncated)


@pytest.fixture(scope="module")
def ten_minutes(ptbxl_headers: list[Path]) -> ECGRecord:
    """A real PTB-XL record repeated to ten minutes: saliency over its 60 windows takes about 7 s and 12 CPU-s on
    this 2-core machine (0.1 s for the 10-s record), so the limits below are passed on any machine."""
    record = read_ecg(ptbxl_headers[0])
    return dataclasses.replace(record, signal=np.tile(record.signal, (1, 60)))


def test_a_job_past_its_time_limit_is_killed_and_the_pool_carries_on(sandbox_with, ptbxl_headers: list[Path],
                                                                     ten_minutes: ECGRecord) -> None:
    sandbox = sandbox_with(wall_s=1.0)
    sandbox.run("read", ptbxl_headers[0])  # the worker is up before the timed job
    started = time.perf_counter()
    with pytest.raises(JobFailedError, match="stopped after 1 s"):
        sandbox.run("explain", ten_minutes)
    assert time.perf_counter() - started < 4
    assert sandbox.run("read", ptbxl_headers[1]).n_samples == 5000


def test_a_job_past_its_cpu_limit_dies_by_sigxcpu_and_the_pool_carries_on(sandbox_with, ptbxl_headers: list[Path],
                                                                          ten_minutes: ECGRecord) -> None:
    sandbox = sandbox_with(cpu_s=1)
    sandbox.run("read", ptbxl_headers[0])
    with pytest.raises(JobFailedError, match="killed by signal SIGXCPU"):
        sandbox.run("explain", ten_minutes)
    assert sandbox.run("read", ptbxl_headers[1]).n_leads == 12


def test_a_job_past_its_memory_limit_fails_alone(sandbox_with, ptbxl_headers: list[Path],
                                                 ten_minutes: ECGRecord) -> None:
    """A worker that has read a record spans about 0.86 GiB of address space (torch and onnxruntime are preloaded);
    saliency on ten minutes takes it to about 1.43 GiB. Under 1.125 GiB that job fails with a clear error, and its
    worker, which may be left short of memory, is replaced."""
    sandbox = sandbox_with(memory_bytes=int(1.125 * GIB))
    sandbox.run("read", ptbxl_headers[0])
    with pytest.raises(CardioScreenError, match="ran out of memory \\(limit 1152 MiB\\)"):
        sandbox.run("explain", ten_minutes)
    for header in ptbxl_headers[1:4]:
        assert sandbox.run("read", header).n_leads == 12


def test_an_npz_bomb_upload_is_refused_quickly_and_the_server_stays_up(make_app: AppFactory,
                                                                        ptbxl_headers: list[Path]) -> None:
    """Issue 14's first attack: twelve leads of 8,000,000 zeros in a 364 KB ``.npz`` (the server took +3.7 GB)."""
    bomb = npz_bomb()
    assert len(bomb) < 500_000
    app = make_app()
    patient = Browser(TestClient(app))
    patient.register("mallory")
    started = time.perf_counter()
    response = patient.upload([("files", ("bomb.npz", bomb))])
    assert response.status_code == 400 and "bomb.npz: its arrays inflate to 383778944 bytes" in response.text
    assert time.perf_counter() - started < 10
    good = patient.upload([("files", (p.name, p.read_bytes())) for p in (ptbxl_headers[0],
                                                                          ptbxl_headers[0].with_suffix(".dat"))])
    assert good.status_code == 200 and "/studies/" in str(good.url)
