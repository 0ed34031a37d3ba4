"""Load test of the web app: 50 concurrent clients upload real PTB-XL records and read them back for 60 s.

Runs ``cardioscreen serve`` with 2 worker processes on a throwaway PostgreSQL cluster on 127.0.0.1, then checks
that every upload the server accepted is stored with its files and its analysis result (0 lost).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import select
from tests.web.pgserver import TemporaryPostgres

from bench.common import SHARED_DATA, median_seconds
from cardioscreen.web import crud
from cardioscreen.web.db import create_db_engine, make_session_factory, migrate
from cardioscreen.web.models import Study
from cardioscreen.web.storage import RECORD_FILE, RESULT_FILE

CLIENTS = 50
DURATION_S = 60.0
WORKERS = 2
PASSWORD = "load test password"
REQUEST_TIMEOUT_S = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _records() -> list[list[tuple[str, bytes]]]:
    headers = sorted((SHARED_DATA / "ptbxl" / "records500").rglob("*_hr.hea"))[:40]
    return [[(p.name, p.read_bytes()) for p in (h, h.with_suffix(".dat"))] for h in headers]


def _create_patients(url: str) -> list[str]:
    engine = create_db_engine(url)
    migrate(engine)
    names = [f"load{i:02d}" for i in range(CLIENTS)]
    with make_session_factory(engine)() as db:
        for name in names:
            crud.create_user(db, name, PASSWORD)
        db.commit()
    engine.dispose()
    return names


async def _client(base: str, name: str, records: list[list[tuple[str, bytes]]], deadline: float,
                  latencies: dict[str, list[float]], accepted: list[int], errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S) as client:
        token = (await client.post("/api/token", data={"username": name, "password": PASSWORD})).json()
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        for files in itertools.cycle(records):
            if time.monotonic() >= deadline:
                return
            start = time.perf_counter()
            response = await client.post("/api/studies", files=[("files", f) for f in files], headers=auth)
            latencies["upload"].append(time.perf_counter() - start)
            if response.status_code != 201:
                errors.append(f"upload {response.status_code}: {response.text[:120]}")
                continue
            study_id = response.json()["id"]
            accepted.append(study_id)
            start = time.perf_counter()
            read = await client.get(f"/api/studies/{study_id}", headers=auth)
            latencies["read"].append(time.perf_counter() - start)
            if read.status_code != 200 or read.json()["id"] != study_id:
                errors.append(f"read {read.status_code}")


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"cardioscreen serve exited with status {process.returncode}")
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError("cardioscreen serve did not answer in time")


def _check_stored(url: str, data_dir: Path, accepted: list[int]) -> tuple[int, int, set[str]]:
    """Accepted uploads missing from the database or disk (lost), those lacking a result, and the analysis errors."""
    engine = create_db_engine(url)
    with make_session_factory(engine)() as db:
        studies = {s.id: s for s in db.scalars(select(Study).where(Study.id.in_(accepted)))}
    engine.dispose()
    lost = without_result = 0
    analysis_errors: set[str] = set()
    for study_id in accepted:
        study = studies.get(study_id)
        folder = data_dir / "studies" / study.storage_key if study else None
        if study is None or folder is None or not (folder / RECORD_FILE).exists():
            lost += 1
        elif study.status == "failed" or study.result is None or not (folder / RESULT_FILE).exists():
            without_result += 1
            analysis_errors.add(str(study.error)[:200])
    return lost, without_result, analysis_errors


def _reference_seconds() -> float:
    """Median time to read and analyse one of the records in this process (the reference for the ratio)."""
    from cardioscreen.io import read_ecg
    from cardioscreen.pipeline import Analyzer

    analyzer = Analyzer.load()
    header = sorted((SHARED_DATA / "ptbxl" / "records500").rglob("*_hr.hea"))[0]
    return median_seconds(lambda: analyzer.analyze(read_ecg(header)), repeats=20)


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")


def main() -> None:
    records = _records()
    reference_s = _reference_seconds()
    postgres = TemporaryPostgres()
    data_dir = Path(tempfile.mkdtemp(prefix="cardioscreen-load-"))
    process: subprocess.Popen[bytes] | None = None
    server_log = (data_dir / "server.log").open("wb")
    try:
        url = postgres.create_database()
        names = _create_patients(url)
        port = _free_port()
        env = {**os.environ, "CARDIOSCREEN_DATABASE_URL": url, "CARDIOSCREEN_SESSION_SECRET": secrets.token_urlsafe(40),
               "OMP_NUM_THREADS": "1"}
        process = subprocess.Popen(
            [sys.executable, "-m", "cardioscreen.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(WORKERS), "--data-dir", str(data_dir)],
            env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process)
        latencies: dict[str, list[float]] = {"upload": [], "read": []}
        accepted: list[int] = []
        errors: list[str] = []

        async def run_all() -> float:
            start = time.monotonic()
            deadline = start + DURATION_S
            await asyncio.gather(*(_client(base, n, records, deadline, latencies, accepted, errors) for n in names))
            return time.monotonic() - start

        elapsed = asyncio.run(run_all())
        lost, without_result, analysis_errors = _check_stored(url, data_dir, accepted)
        requests = len(latencies["upload"]) + len(latencies["read"])
        print(f"{CLIENTS} clients, {elapsed:.0f} s, cardioscreen serve --workers {WORKERS} on PostgreSQL "
              f"(loopback), {os.cpu_count()} CPU cores")
        rate = len(accepted) / elapsed
        print(f"uploads accepted: {len(accepted)} ({rate:.2f}/s), refused or failed: {len(errors)}")
        print(f"reference: read + analyze in one process {reference_s * 1000:.0f} ms/record "
              f"({1 / reference_s:.1f}/s); web upload throughput = {rate * reference_s:.2f}x that rate")
        print(f"requests: {requests} ({requests / elapsed:.2f}/s)")
        for kind, values in latencies.items():
            if values:
                print(f"{kind} latency: median {statistics.median(values) * 1000:.0f} ms, "
                      f"p95 {_percentile(values, 95) * 1000:.0f} ms")
        print(f"stored check: {lost} lost, {without_result} without an analysis result "
              f"out of {len(accepted)} accepted uploads")
        for message in sorted(set(errors) | analysis_errors)[:5]:
            print(f"  error: {message}")
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        postgres.stop()
        server_log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
