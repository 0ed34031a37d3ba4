"""Fuzz and bomb bench over every registered reader: mutated real files, each read in a bounded forked child.

``CARDIOSCREEN_FUZZ_INPUTS`` inputs in all (default 100,000), shared evenly by the formats of
:data:`cardioscreen.io.FORMAT_MODULES`; each is a real sample of the format (see ``tests/io/test_fuzz.py``) with one
mutation (truncation, bit flips, byte insertion, deletion, random bytes, header field edit, taking turns), read
detected and forced as its format in a forked child whose address space may grow by twice the memory bound and that
is killed at the time bound. Prints the inputs per format, the failures by type (anything but a record or
ECGFormatError, or past a bound) with an example, and the worst time and peak memory per format.
``CARDIOSCREEN_FUZZ_JOBS`` children run at once (default: the CPU count). ``CARDIOSCREEN_FUZZ_FORMATS`` (comma-separated
names) limits the run to some formats, which then share the inputs: the seeds depend only on the inputs per format, so
``CARDIOSCREEN_FUZZ_INPUTS=10000 CARDIOSCREEN_FUZZ_FORMATS=matlab`` reads the MATLAB inputs of the default run. Each
failure's example names its input as ``seed:index``, i.e. the index-th of ``mutated_inputs(sample, fmt, count, seed)``.
Reproduce a short run with ``CARDIOSCREEN_FUZZ_INPUTS=600 .venv/bin/python -m bench fuzz``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from tests.io.test_fuzz import (
    ACCEPTED,
    FORKED_MEMORY_MB,
    FORKED_SECONDS,
    MUTATIONS,
    Outcome,
    lay_out,
    load_samples,
    mutated_inputs,
    read_forked,
)

from bench.common import SHARED_DATA
from cardioscreen.io import FORMAT_MODULES

INPUTS = int(os.environ.get("CARDIOSCREEN_FUZZ_INPUTS", "100000"))
JOBS = int(os.environ.get("CARDIOSCREEN_FUZZ_JOBS", str(os.cpu_count() or 1)))
FORMATS = [name.strip() for name in os.environ.get("CARDIOSCREEN_FUZZ_FORMATS", "").split(",") if name.strip()] or list(
    FORMAT_MODULES)
CHUNK = 60  # inputs per task: ten of each mutation

_samples: dict[str, list[tuple[str, bytes]]] = {}  # filled before the pool forks its workers
_workdir = Path()


def _quiet() -> None:
    """In each pool worker (and so in its children): what the readers and their C libraries print about mutated
    files goes nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _run_chunk(task: tuple[str, int, int]) -> list[tuple[str, str, Outcome, str]]:
    """Read ``count`` mutated inputs of ``fmt`` seeded by ``seed``: (format, mutation, outcome, ``seed:index``) of
    each."""
    fmt, seed, count = task
    folder = _workdir / f"{fmt}-{os.getpid()}"
    return [(fmt, mutation, read_forked(lay_out(_samples[fmt], folder, index, data), fmt), f"{seed}:{i}")
            for i, (mutation, index, data) in enumerate(mutated_inputs(_samples[fmt], fmt, count, seed))]


def _tasks(total: int, formats: list[str]) -> list[tuple[str, int, int]]:
    """(format, seed, count) tasks: ``total`` inputs shared evenly by ``formats``, interleaved."""
    per_format = math.ceil(total / len(formats))
    tasks = [(fmt, seed, min(CHUNK, per_format - seed * CHUNK))
             for fmt in formats for seed in range(math.ceil(per_format / CHUNK))]
    return sorted(tasks, key=lambda task: task[1])


def _report(results: list[tuple[str, str, Outcome, str]], elapsed: float) -> None:
    inputs: Counter[str] = Counter()
    outcomes: Counter[tuple[str, str]] = Counter()
    failures: Counter[tuple[str, str, str]] = Counter()
    examples: dict[tuple[str, str, str], str] = {}
    inputs_failed: defaultdict[tuple[str, str, str], list[str]] = defaultdict(list)
    worst_s: defaultdict[str, float] = defaultdict(float)
    worst_mb: defaultdict[str, float] = defaultdict(float)
    for fmt, mutation, outcome, where in results:
        inputs[fmt] += 1
        outcomes[fmt, outcome.result] += 1
        worst_s[fmt] = max(worst_s[fmt], outcome.seconds)
        worst_mb[fmt] = max(worst_mb[fmt], outcome.memory_mb) if not math.isnan(outcome.memory_mb) else worst_mb[fmt]
        if not outcome.within(FORKED_SECONDS, FORKED_MEMORY_MB):
            kind = outcome.result if outcome.result not in ACCEPTED else (
                "past the time bound" if outcome.seconds >= FORKED_SECONDS else "past the memory bound")
            failures[fmt, kind, mutation] += 1
            examples.setdefault((fmt, kind, mutation), outcome.message[:150])
            inputs_failed[fmt, kind, mutation].append(where)
    print(f"{len(results)} inputs in {elapsed:.0f} s ({len(results) / elapsed:.0f}/s, {JOBS} at a time); "
          f"bounds {FORKED_SECONDS:g} s and {FORKED_MEMORY_MB} MiB peak each; mutations: {', '.join(MUTATIONS)}")
    print(f"{'format':10} {'inputs':>7} {'records':>8} {'ECGFormatError':>15} {'failures':>9} {'worst s':>8} "
          f"{'worst MiB':>10}")
    for fmt in FORMATS:
        failed = sum(n for (f, _, _), n in failures.items() if f == fmt)
        print(f"{fmt:10} {inputs[fmt]:7d} {outcomes[fmt, 'record']:8d} {outcomes[fmt, 'ECGFormatError']:15d} "
              f"{failed:9d} {worst_s[fmt]:8.2f} {worst_mb[fmt]:10.1f}")
    print(f"failures by type: {sum(failures.values())}")
    for (fmt, kind, mutation), count in sorted(failures.items()):
        where = sorted(inputs_failed[fmt, kind, mutation], key=lambda w: tuple(map(int, w.split(":"))))
        print(f"  {fmt} {kind} ({mutation}): {count}, inputs {', '.join(where[:10])}{' ...' * (count > 10)}, "
              f"e.g. {examples[fmt, kind, mutation]!r}")


def main() -> None:
    global _workdir
    with tempfile.TemporaryDirectory(prefix="cardioscreen-fuzz-") as tmp:
        _workdir = Path(tmp)
        _samples.update(load_samples(SHARED_DATA, _workdir))
        unknown = sorted(set(FORMATS) - set(FORMAT_MODULES))
        if unknown:
            raise RuntimeError(f"CARDIOSCREEN_FUZZ_FORMATS names {unknown}; the formats are {list(FORMAT_MODULES)}")
        missing = [fmt for fmt in FORMATS if not _samples[fmt]]
        if missing:
            raise RuntimeError(f"no sample for {missing}: see tests/io/test_fuzz.py")
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(JOBS, initializer=_quiet) as pool:
            results = [r for chunk in pool.imap_unordered(_run_chunk, _tasks(INPUTS, FORMATS)) for r in chunk]
        _report(results, time.perf_counter() - started)


if __name__ == "__main__":
    main()
