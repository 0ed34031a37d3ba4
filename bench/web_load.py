"""Load test of the web app: concurrent clients upload real PTB-XL records and read them back.

Runs ``cardioscreen serve`` with 2 worker processes on a throwaway PostgreSQL cluster on 127.0.0.1 (Debian's
``postgresql``, as in ``tests/web/pgserver.py``; ``fsync=off``), or on the database of
``CARDIOSCREEN_LOAD_DATABASE_URL`` (a PostgreSQL URL; the load users are added to it). Each client signs in for a
token (all together, before the clock starts), then uploads and reads back a study in turn until the time is
up. Prints uploads/s, the median and p95
latencies, the 5xx answers, the lost requests (no answer: connection error or timeout) and the stored check: every
upload the server accepted must be stored with its files and its analysis result (0 lost).
``CARDIOSCREEN_LOAD_CLIENTS`` (50) clients for ``CARDIOSCREEN_LOAD_SECONDS`` (60) s.

``CARDIOSCREEN_LOAD_MODE=queue`` (the default) runs the app with its job queue (``CARDIOSCREEN_JOB_QUEUE=1``) and
``CARDIOSCREEN_LOAD_ANALYSIS_WORKERS`` (2) ``cardioscreen worker`` processes at ``nice 10`` beside it (one job at
once each), and measures the study reads four times: with no analysis running (before the uploads), during the
uploads, while the workers analyse the backlog the uploads left (no uploads then), and with no analysis running
again once the queue is empty (the database then holds the uploads too); it prints how fast the workers drained
the queue. ``inline`` analyses in the web processes, as without a queue.

``CARDIOSCREEN_LOAD_WORKER_CPUS`` (a CPU list, e.g. ``1`` or ``2-3``) runs the workers as on a machine of their own:
pinned to those CPUs (``os.sched_setaffinity``, inherited by their sandbox processes), and this process, the
PostgreSQL cluster it starts and the web server on the others. Each phase also prints how busy each CPU was and the
CPU used by the web server, the workers, PostgreSQL and the load clients (this process), to show what a slow-down
of the reads comes from.
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
from typing import IO, Any

import httpx
import psutil
from sqlalchemy import Engine, select
from tests.web.pgserver import TemporaryPostgres

from bench.common import SHARED_DATA, median_seconds
from cardioscreen.web import crud
from cardioscreen.web.db import create_db_engine, make_session_factory, migrate
from cardioscreen.web.models import Study
from cardioscreen.web.storage import RECORD_FILE, RESULT_FILE

CLIENTS = int(os.environ.get("CARDIOSCREEN_LOAD_CLIENTS", "50"))
DURATION_S = float(os.environ.get("CARDIOSCREEN_LOAD_SECONDS", "60"))
DATABASE_URL = os.environ.get("CARDIOSCREEN_LOAD_DATABASE_URL", "")
MODE = os.environ.get("CARDIOSCREEN_LOAD_MODE", "queue")
ANALYSIS_WORKERS = int(os.environ.get("CARDIOSCREEN_LOAD_ANALYSIS_WORKERS", "2"))
WORKER_CPUS = os.environ.get("CARDIOSCREEN_LOAD_WORKER_CPUS", "")
READ_SECONDS = 15.0
"""How long the clients only read studies with no analysis running, and at most while the workers drain the
backlog (until it is empty)."""
DRAIN_TIMEOUT_S = 1800.0
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

    latencies: dict[str, list[float]] = field(default_factory=lambda: {
        "sign-in": [], "upload": [], "read, quiet": [], "read, during uploads": [], "read, backlog": [],
        "read, quiet after": []})
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
        read = await _request(client, tally, "read, during uploads", "GET", f"/api/studies/{study_id}",
                              headers=auth)
        if read is not None and (read.status_code != 200 or read.json()["id"] != study_id):
            tally.errors.append(f"read {read.status_code}")


async def _reads(client: httpx.AsyncClient, auth: dict[str, str], study_id: int, kind: str, deadline: float,
                 tally: Tally, until: asyncio.Event | None = None) -> None:
    """Read one study again and again until ``deadline`` (time.monotonic) or ``until`` is set, timed as ``kind``."""
    while time.monotonic() < deadline and not (until and until.is_set()):
        read = await _request(client, tally, kind, "GET", f"/api/studies/{study_id}", headers=auth)
        if read is not None and read.status_code != 200:
            tally.errors.append(f"{kind} {read.status_code}")


async def _seed(client: httpx.AsyncClient, auth: dict[str, str], files: list[tuple[str, bytes]],
                tally: Tally) -> int | None:
    """One study of the client's own to read in the quiet phase (not counted among the load's uploads)."""
    response = await client.post("/api/studies", files=[("files", f) for f in files], headers=auth)
    if response.status_code != 201:
        tally.errors.append(f"seed upload {response.status_code}: {response.text[:120]}")
        return None
    return int(response.json()["id"])


def _cpu_list(text: str) -> set[int]:
    """The CPUs of a list like ``1``, ``2-3`` or ``0,2``."""
    cpus: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` and its live descendants (with the children they reaped)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


@dataclass
class CpuMeter:
    """CPU use per phase: how busy each CPU was, and the cores used by each group of processes (``groups``: name ->
    root pids; ``load clients`` is this process alone)."""

    groups: dict[str, list[int]]
    phases: list[tuple[str, float, dict[int, float], dict[str, float]]] = field(default_factory=list)
    _last: tuple[float, dict[int, float], dict[str, float]] | None = None

    def _snapshot(self) -> tuple[float, dict[int, float], dict[str, float]]:
        busy = {cpu: t.user + t.nice + t.system + t.irq + t.softirq + t.steal
                for cpu, t in enumerate(psutil.cpu_times(percpu=True))}
        own = psutil.Process().cpu_times()
        used = {name: sum(_tree_cpu_s(pid) for pid in pids) for name, pids in self.groups.items()}
        return time.monotonic(), busy, used | {"load clients": own.user + own.system}

    def mark(self, phase: str | None = None) -> None:
        """End ``phase`` here (and start the next one); None only starts one."""
        now = self._snapshot()
        if phase is not None and self._last is not None:
            wall = now[0] - self._last[0]
            busy = {cpu: (now[1][cpu] - self._last[1][cpu]) / wall for cpu in now[1]}
            used = {name: (now[2][name] - self._last[2][name]) / wall for name in now[2]}
            self.phases.append((phase, wall, busy, used))
        self._last = now

    def lines(self, answered: dict[str, int], worker_cpus: set[int] | None) -> list[str]:
        """A line per phase: each CPU's busy share, the cores used by each group and by other processes (this
        machine's other users; with ``worker_cpus``, those on the other CPUs, the web server's), and the web server's
        CPU per answered request (``answered``: phase -> requests)."""
        out = []
        for phase, wall, busy, used in self.phases:
            others = f"other processes {sum(busy.values()) - sum(used.values()):.2f}"
            if worker_cpus is not None:
                web_side = sum(b for cpu, b in busy.items() if cpu not in worker_cpus)
                others += f" (on the web's CPUs {web_side - sum(used.values()) + used['workers']:.2f})"
            per_request = used["web server"] * wall / answered[phase] * 1000 if answered.get(phase) else float("nan")
            out.append(f"CPU in {phase} ({wall:.0f} s): busy " + ", ".join(f"cpu{c} {b:.0%}" for c, b in busy.items())
                       + "; cores used: " + ", ".join(f"{name} {u:.2f}" for name, u in used.items())
                       + f", {others}; web server {per_request:.1f} ms CPU per answered request")
        return out


@dataclass
class Phases:
    """Seconds of the upload phase, the queue's drain after it (None without a queue), load averages (1 min)."""

    upload_s: float = 0.0
    drain_s: float | None = None
    drained: int = 0
    load: dict[str, float] = field(default_factory=dict)


async def _run_clients(base: str, url: str, names: list[str], records: list[list[tuple[str, bytes]]],
                       tally: Tally, meter: CpuMeter) -> Phases:
    """All clients sign in together; with the queue they read a study of their own with no analysis running, then
    all upload for DURATION_S, then (with the queue) read while the workers drain the backlog, until it is empty."""
    clients = [httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S) for _ in names]
    phases = Phases()
    queued = MODE == "queue"
    engine = create_db_engine(url)  # one pool for the queue's polling
    try:
        auths = await asyncio.gather(*(_sign_in(c, n, tally) for c, n in zip(clients, names, strict=True)))
        pairs = [(c, a) for c, a in zip(clients, auths, strict=True) if a is not None]
        seeds: list[int | None] = []
        if queued:
            seeds = await asyncio.gather(*(_seed(c, a, records[i % len(records)], tally)
                                           for i, (c, a) in enumerate(pairs)))
            await _drain(engine, DRAIN_TIMEOUT_S)
            meter.mark()
            end = time.monotonic() + READ_SECONDS
            await asyncio.gather(*(_reads(c, a, s, "read, quiet", end, tally)
                                   for (c, a), s in zip(pairs, seeds, strict=True) if s is not None))
            phases.load["quiet reads"] = os.getloadavg()[0]
            meter.mark("quiet reads")
        start = time.monotonic()
        meter.mark()
        await asyncio.gather(*(_uploads(c, a, records, start + DURATION_S, tally) for c, a in pairs))
        phases.upload_s = time.monotonic() - start
        phases.load["uploads"] = os.getloadavg()[0]
        meter.mark("uploads")
        if queued:
            drain_start = time.monotonic()
            phases.drained = await asyncio.to_thread(_open_jobs, engine)
            drained = asyncio.Event()
            end = time.monotonic() + READ_SECONDS
            drain = asyncio.create_task(_drain(engine, DRAIN_TIMEOUT_S, drained))
            await asyncio.gather(*(_reads(c, a, s, "read, backlog", end, tally, until=drained)
                                   for (c, a), s in zip(pairs, seeds, strict=True) if s is not None))
            phases.load["backlog reads"] = os.getloadavg()[0]
            meter.mark("backlog reads")
            await drain
            phases.drain_s = time.monotonic() - drain_start
            meter.mark()
            end = time.monotonic() + READ_SECONDS
            await asyncio.gather(*(_reads(c, a, s, "read, quiet after", end, tally)
                                   for (c, a), s in zip(pairs, seeds, strict=True) if s is not None))
            phases.load["quiet reads after"] = os.getloadavg()[0]
            meter.mark("quiet reads after")
        return phases
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
        engine.dispose()


def _open_jobs(engine: Engine) -> int:
    from cardioscreen.web.jobs.queue import count_open

    with make_session_factory(engine)() as db:
        return count_open(db)


async def _drain(engine: Engine, timeout_s: float, drained: asyncio.Event | None = None) -> None:
    """Wait until the job queue is empty (then set ``drained``), looking every half second."""
    deadline = time.monotonic() + timeout_s
    while await asyncio.to_thread(_open_jobs, engine):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the job queue was not empty after {timeout_s:g} s")
        await asyncio.sleep(0.5)
    if drained is not None:
        drained.set()


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


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")


def _print(tally: Tally, phases: Phases, reference_s: float, stored: tuple[int, int, set[str]],
           worker_cpus: set[int] | None) -> None:
    lost, without_result, analysis_errors = stored
    elapsed = phases.upload_s
    requests = sum(tally.statuses.values()) + sum(tally.lost.values())
    server_errors = sum(n for code, n in tally.statuses.items() if code >= 500)
    setup = (f"job queue, {ANALYSIS_WORKERS} cardioscreen worker processes at nice 10" if MODE == "queue"
             else "analysis in the web processes")
    if worker_cpus is not None:
        setup += (f", the workers pinned to CPU {','.join(map(str, sorted(worker_cpus)))}, the server, PostgreSQL and "
                  f"the clients to CPU {','.join(map(str, sorted(os.sched_getaffinity(0))))}")
    print(f"{CLIENTS} clients, {elapsed:.0f} s of uploads after all signed in, cardioscreen serve --workers {WORKERS} "
          f"on PostgreSQL (loopback), {setup}, {os.cpu_count()} CPU cores")
    print("load average (1 min) at the end of each phase: "
          + ", ".join(f"{phase} {load:.1f}" for phase, load in phases.load.items()))
    rate = len(tally.accepted) / elapsed
    print(f"uploads accepted: {len(tally.accepted)} ({rate:.2f}/s), refused or failed: {len(tally.errors)}")
    print(f"reference: read + analyze in one process {reference_s * 1000:.0f} ms/record "
          f"({1 / reference_s:.1f}/s); web upload throughput = {rate * reference_s:.2f}x that rate")
    if phases.drain_s is not None:
        print(f"queue drained: {phases.drained} jobs open when the uploads stopped, empty {phases.drain_s:.0f} s later "
              f"({phases.drained / phases.drain_s:.2f} analyses/s by the workers)")
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


def _start(command: list[str], env: dict[str, str], log: IO[bytes], cpus: set[int] | None = None,
           ) -> subprocess.Popen[bytes]:
    """Start ``command`` in a session of its own; pinned to ``cpus`` (it and what it starts) when given."""
    pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=pin)


def _split_cpus() -> set[int] | None:
    """With ``WORKER_CPUS``, pin this process (and so the PostgreSQL cluster and the server it starts) to the other
    CPUs; the workers' CPUs, or None."""
    if not WORKER_CPUS:
        return None
    allowed, workers = os.sched_getaffinity(0), _cpu_list(WORKER_CPUS)
    if not workers < allowed:
        raise SystemExit(f"CARDIOSCREEN_LOAD_WORKER_CPUS={WORKER_CPUS} must leave some of CPUs {sorted(allowed)} "
                         "to the web server")
    os.sched_setaffinity(0, allowed - workers)
    return workers


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    if MODE not in ("queue", "inline"):
        raise SystemExit(f"CARDIOSCREEN_LOAD_MODE must be queue or inline, not {MODE!r}")
    worker_cpus = _split_cpus()
    records = _records()
    reference_s = _reference_seconds()
    postgres = None if DATABASE_URL else TemporaryPostgres()
    data_dir = Path(tempfile.mkdtemp(prefix="cardioscreen-load-"))
    processes: list[subprocess.Popen[bytes]] = []
    server_log = (data_dir / "server.log").open("wb")
    try:
        url = postgres.create_database() if postgres else DATABASE_URL
        names = _create_patients(url)
        port = _free_port()
        env = {**os.environ, "CARDIOSCREEN_DATABASE_URL": url, "CARDIOSCREEN_SESSION_SECRET": secrets.token_urlsafe(40),
               "OMP_NUM_THREADS": "1", "CARDIOSCREEN_DATA_DIR": str(data_dir),
               "CARDIOSCREEN_JOB_QUEUE": "1" if MODE == "queue" else "0"}
        cli = [sys.executable, "-m", "cardioscreen.cli"]
        processes.append(_start([*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)],
                                env, server_log))
        if MODE == "queue":
            processes += [_start(["nice", "-n", "10", *cli, "worker", "--concurrency", "1"], env, server_log,
                                 worker_cpus) for _ in range(ANALYSIS_WORKERS)]
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, processes[0])
        groups = {"web server": [processes[0].pid], "workers": [p.pid for p in processes[1:]]}
        if postgres is not None:
            groups["PostgreSQL"] = [int((postgres.data / "postmaster.pid").read_text().split()[0])]
        meter = CpuMeter(groups)
        tally = Tally()
        phases = asyncio.run(_run_clients(base, url, names, records, tally, meter))
        _print(tally, phases, reference_s, _check_stored(url, data_dir, tally.accepted), worker_cpus)
        answered = {"quiet reads": len(tally.latencies["read, quiet"]),
                    "uploads": len(tally.latencies["upload"]) + len(tally.latencies["read, during uploads"]),
                    "backlog reads": len(tally.latencies["read, backlog"]),
                    "quiet reads after": len(tally.latencies["read, quiet after"])}
        print("\n".join(meter.lines(answered, worker_cpus)))
    finally:
        for process in processes:
            _stop(process)
        if postgres is not None:
            postgres.stop()
        server_log.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
