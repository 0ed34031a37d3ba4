"""Load test of the web app: concurrent clients upload real PTB-XL records and read them back.

Runs ``cardioscreen serve`` with 2 worker processes on a throwaway PostgreSQL cluster on 127.0.0.1 (Debian's
``postgresql``, as in ``tests/web/pgserver.py``; ``fsync=off``), or on the database of
``CARDIOSCREEN_LOAD_DATABASE_URL`` (a PostgreSQL URL; the load users are added to it). Each client signs in for a
token (all together, before the clock starts), then uploads and reads back a study in turn until the time is
up. Prints uploads/s, the median and p95
latencies, the 5xx answers, the lost requests (no answer: connection error or timeout) and the stored check: every
upload the server accepted must be stored with its files and its analysis result (0 lost).
``CARDIOSCREEN_LOAD_CLIENTS`` (50) clients for ``CARDIOSCREEN_LOAD_SECONDS`` (60) s.
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
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from tests.web.pgserver import TemporaryPostgres

from bench.common import SHARED_DATA, median_seconds
from cardioscreen.web import crud
from cardioscreen.web.db import create_db_engine, make_session_factory, migrate
from cardioscreen.web.models import Study
from cardioscreen.web.storage import RECORD_FILE, RESULT_FILE

CLIENTS = int(os.environ.get("CARDIOSCREEN_LOAD_CLIENTS", "50"))
DURATION_S = float(os.environ.get("CARDIOSCREEN_LOAD_SECONDS", "60"))
DATABASE_URL = os.environ.get("CARDIOSCREEN_LOAD_DATABASE_URL", "")
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
    run = secrets.token_hex(3)  # new names on a database that holds an earlier run's
    names = [f"load-{run}-{i:02d}" for i in range(CLIENTS)]
    with make_session_factory(engine)() as db:
        for name in names:
            crud.create_user(db, name, PASSWORD)
        db.commit()
    engine.dispose()
    return names


@dataclass
class Tally:
    """What the clients saw: latencies in s by request kind, accepted study ids, answers by status, lost requests
    (no answer) and the first words of each refused or failed request."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"sign-in": [], "upload": [], "read": []})
    accepted: list[int] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


async def _request(client: httpx.AsyncClient, tally: Tally, kind: str, method: str, url: str,
                   **kwargs: Any) -> httpx.Response | None:
    """One timed request; None when it got no answer (counted as lost with the exception's type)."""
    start = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        tally.lost[f"{kind}: {type(exc).__name__}"] += 1
        return None
    tally.latencies[kind].append(time.perf_counter() - start)
    tally.statuses[response.status_code] += 1
    return response


async def _sign_in(client: httpx.AsyncClient, name: str, tally: Tally) -> dict[str, str] | None:
    """The bearer header of a token for ``name``; None (an error counted) when sign-in fails."""
    token = await _request(client, tally, "sign-in", "POST", "/api/token",
                           data={"username": name, "password": PASSWORD})
    if token is None or token.status_code != 200:
        tally.errors.append(f"sign-in {token.status_code if token else 'lost'}")
        return None
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def _uploads(client: httpx.AsyncClient, auth: dict[str, str], records: list[list[tuple[str, bytes]]],
                   deadline: float, tally: Tally) -> None:
    """Upload a record and read its study back, in turn, until ``deadline`` (time.monotonic)."""
    for files in itertools.cycle(records):
        if time.monotonic() >= deadline:
            return
        response = await _request(client, tally, "upload", "POST", "/api/studies",
                                  files=[("files", f) for f in files], headers=auth)
        if response is None:
            continue
        if response.status_code != 201:
            tally.errors.append(f"upload {response.status_code}: {response.text[:120]}")
            continue
        study_id = response.json()["id"]
        tally.accepted.append(study_id)
        read = await _request(client, tally, "read", "GET", f"/api/studies/{study_id}", headers=auth)
        if read is not None and (read.status_code != 200 or read.json()["id"] != study_id):
            tally.errors.append(f"read {read.status_code}")


async def _run_clients(base: str, names: list[str], records: list[list[tuple[str, bytes]]], tally: Tally) -> float:
    """All clients sign in together, then upload for DURATION_S; the seconds the uploading took."""
    clients = [httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S) for _ in names]
    try:
        auths = await asyncio.gather(*(_sign_in(c, n, tally) for c, n in zip(clients, names, strict=True)))
        start = time.monotonic()
        await asyncio.gather(*(_uploads(c, a, records, start + DURATION_S, tally)
                               for c, a in zip(clients, auths, strict=True) if a is not None))
        return time.monotonic() - start
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


def _wait_ready(base: str, process: subprocess.Popen[bytes], timeout_s: float = 600.0) -> None:
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


def _print(tally: Tally, elapsed: float, reference_s: float, stored: tuple[int, int, set[str]]) -> None:
    lost, without_result, analysis_errors = stored
    requests = sum(tally.statuses.values()) + sum(tally.lost.values())
    server_errors = sum(n for code, n in tally.statuses.items() if code >= 500)
    print(f"{CLIENTS} clients, {elapsed:.0f} s of uploads after all signed in, cardioscreen serve --workers {WORKERS} "
          f"on PostgreSQL (loopback), {os.cpu_count()} CPU cores")
    rate = len(tally.accepted) / elapsed
    print(f"uploads accepted: {len(tally.accepted)} ({rate:.2f}/s), refused or failed: {len(tally.errors)}")
    print(f"reference: read + analyze in one process {reference_s * 1000:.0f} ms/record "
          f"({1 / reference_s:.1f}/s); web upload throughput = {rate * reference_s:.2f}x that rate")
    print(f"requests: {requests} ({requests / elapsed:.2f}/s); answers by status: "
          f"{dict(sorted(tally.statuses.items()))}")
    print(f"5xx answers: {server_errors}; lost requests (no answer): {sum(tally.lost.values())} {dict(tally.lost)}")
    for kind, values in tally.latencies.items():
        if values:
            print(f"{kind} latency: median {statistics.median(values) * 1000:.0f} ms, "
                  f"p95 {_percentile(values, 95) * 1000:.0f} ms ({len(values)} answered)")
    print(f"stored check: {lost} lost, {without_result} without an analysis result "
          f"out of {len(tally.accepted)} accepted uploads")
    for message in sorted(set(tally.errors) | analysis_errors)[:5]:
        print(f"  error: {message}")


def main() -> None:
    records = _records()
    reference_s = _reference_seconds()
    postgres = None if DATABASE_URL else TemporaryPostgres()
    data_dir = Path(tempfile.mkdtemp(prefix="cardioscreen-load-"))
    process: subprocess.Popen[bytes] | None = None
    server_log = (data_dir / "server.log").open("wb")
    try:
        url = postgres.create_database() if postgres else DATABASE_URL
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
        tally = Tally()
        elapsed = asyncio.run(_run_clients(base, names, records, tally))
        _print(tally, elapsed, reference_s, _check_stored(url, data_dir, tally.accepted))
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if postgres is not None:
            postgres.stop()
        server_log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
