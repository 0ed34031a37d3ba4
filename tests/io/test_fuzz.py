"""Fuzzing every registered format: mutations of a real file of each format must give an ECGRecord or
ECGFormatError, never another exception, a crash, a hang or a large allocation.

The sample of a format is the first file under ``../shared/data/formats`` detected and read as that format; for WFDB
a real PTB-XL record; otherwise a real PTB-XL record written by the format's own writer. A newly registered
format without any of these fails :class:`TestSamples` until a sample is provided.

:class:`TestForked` reads a seeded sample of mutated files (truncation, bit flips, byte insertions and deletions,
random bytes, header field edits) each in a forked child under an address-space limit, and bounds its outcome, wall
time and peak memory; ``bench/fuzz.py`` runs the same harness over 100,000 inputs. :class:`TestFindings` reads the
inputs that bench found failing, kept in ``fuzz_findings/`` (see its ``ATTRIBUTION.md``).
"""

from __future__ import annotations

import faulthandler
import gzip
import json
import os
import random
import re
import resource
import select
import shutil
import signal
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cardioscreen.errors import ECGFormatError
from cardioscreen.io import FORMAT_MODULES, read_ecg
from cardioscreen.io.registry import detect_format, format_module
from cardioscreen.io.scp_ecg.sections import SECTION_HEADER_BYTES, crc_ccitt

WFDB_SAMPLE = ("ptbxl", "records100", "00000", "00001_lr")
MB = 1 << 20
HEAD_BYTES = 2048  # where header fields are edited, and where half of the other mutations fall
EXTREME_NUMBERS = (b"0", b"-1", b"65536", b"4294967296", b"99999999999999999999", b"1e308", b"nan", b"7999999")
EXTREME_WORDS = (b"\x00", b"\xff", b"\x00\x00", b"\xff\xff", b"\xff\x7f", b"\x00\x80", b"\xff\xff\xff\xff",
                 b"\xff\xff\xff\x7f", b"\x00\x00\x00\x80")
MAT_COMPRESSED = 15  # miCOMPRESSED, the MAT-file v5 data type of a zlib-compressed element
NUMBER_RE = re.compile(rb"-?\d+(?:\.\d+)?")
ACCEPTED = ("record", "ECGFormatError")
FORKED_SECONDS = 10.0  # wall-time bound of one mutated file read twice (detected and forced), on a loaded machine
FORKED_MEMORY_MB = 256  # peak resident memory bound above the child's own at the fork
FINDINGS = Path(__file__).with_name("fuzz_findings")


def _find_sample(fmt: str, shared: Path, out: Path) -> list[Path]:
    """Files of a real sample of ``fmt``: the main file first, then the files it needs beside it."""
    for candidate in sorted((shared / "formats").glob("*/*")):
        try:
            if detect_format(candidate) == fmt and read_ecg(candidate).n_samples:
                return [candidate]
        except ECGFormatError:
            continue
    if fmt == "wfdb":
        record = shared.joinpath(*WFDB_SAMPLE)
        return [record.with_suffix(".hea"), record.with_suffix(".dat")]
    module = format_module(fmt)
    if hasattr(module, "write"):
        folder = out / f"written-{fmt}"
        folder.mkdir(exist_ok=True)
        main = module.write(read_ecg(shared.joinpath(*WFDB_SAMPLE).with_suffix(".hea")), folder / "sample")
        return [main, *sorted(p for p in folder.iterdir() if p != main)]
    return []


def _position(data: bytes, rng: random.Random) -> int:
    """An offset in ``data``: half the time in its head, where the parsers read their sizes."""
    limit = len(data) if rng.random() < 0.5 else min(len(data), HEAD_BYTES)
    return rng.randrange(max(limit, 1))


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: _position(data, rng)]


def _flip_bits(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 16) if out else 0):
        out[_position(data, rng)] ^= 1 << rng.randrange(8)
    return bytes(out)


def _insert_bytes(data: bytes, rng: random.Random) -> bytes:
    """Random bytes, or a repeated copy of the bytes there, inserted at one offset."""
    at = _position(data, rng)
    size = rng.randint(1, 64)
    inserted = rng.randbytes(size) if rng.random() < 0.5 else data[at : at + size] * rng.randint(1, 8)
    return data[:at] + inserted + data[at:]


def _delete_bytes(data: bytes, rng: random.Random) -> bytes:
    at = _position(data, rng)
    return data[:at] + data[at + rng.randint(1, 64) :]


def _random_bytes(data: bytes, rng: random.Random) -> bytes:
    """Up to 4 KB of random bytes, half the time after the file's first 16 (its signature)."""
    return (data[:16] if rng.random() < 0.5 else b"") + rng.randbytes(rng.randint(0, 4096))


def _edit_header_field(data: bytes, rng: random.Random) -> bytes:
    """A number written in the head replaced by an extreme one, or a binary word of the head by an extreme word."""
    numbers = list(NUMBER_RE.finditer(data[:HEAD_BYTES]))
    if numbers and rng.random() < 0.7:
        field = rng.choice(numbers)
        return data[: field.start()] + rng.choice(EXTREME_NUMBERS) + data[field.end() :]
    word = rng.choice(EXTREME_WORDS)
    at = rng.randrange(max(min(len(data), HEAD_BYTES) - len(word), 1))
    return data[:at] + word + data[at + len(word) :]


def _scp_checksums_redone(data: bytes) -> bytes:
    """An SCP-ECG record with its length and CRCs (of section 0, the sections it points to and the record) made to
    match its bytes again, so that a mutation reaches the section parsers instead of stopping at a CRC."""
    out = bytearray(data)
    if len(out) < 6 + SECTION_HEADER_BYTES:
        return data

    def redo(offset: int) -> None:
        if not 6 <= offset <= len(out) - SECTION_HEADER_BYTES:
            return
        length = struct.unpack_from("<I", out, offset + 4)[0]
        if SECTION_HEADER_BYTES <= length <= len(out) - offset:
            struct.pack_into("<H", out, offset, crc_ccitt(bytes(out[offset + 2 : offset + length])))

    pointers_length = struct.unpack_from("<I", out, 10)[0]
    pointers = bytes(out[6 + SECTION_HEADER_BYTES : 6 + min(pointers_length, len(out) - 6)])
    for at in range(0, len(pointers) - 9, 10):
        redo(struct.unpack_from("<I", pointers, at + 6)[0] - 1)
    redo(6)
    struct.pack_into("<I", out, 2, len(out))
    struct.pack_into("<H", out, 0, crc_ccitt(bytes(out[2:])))
    return bytes(out)


def _mat_inflated(data: bytes) -> bytes:
    """A MAT-file v5 with its compressed top-level variables stored inflated (the same file as MATLAB's
    ``-nocompression`` would write), so that mutations reach scipy's element parser instead of stopping in zlib."""
    out, offset = [data[:128]], 128
    while offset + 8 <= len(data):
        kind, size = struct.unpack_from("<II", data, offset)
        body = data[offset + 8 : offset + 8 + size]
        out.append(zlib.decompress(body) if kind == MAT_COMPRESSED else data[offset : offset + 8 + size])
        offset += 8 + size + (0 if kind == MAT_COMPRESSED else -size % 8)
    return b"".join(out)


CHECKSUMS_REDONE: dict[str, Callable[[bytes], bytes]] = {"scp-ecg": _scp_checksums_redone}
"""Formats whose checksums half of the mutated files get redone (of the main file)."""
INFLATED: dict[str, Callable[[bytes], bytes]] = {"matlab": _mat_inflated}
"""Formats whose main file half of the inputs inflate before the mutation."""

MUTATIONS: dict[str, Callable[[bytes, random.Random], bytes]] = {
    "truncation": _truncate,
    "bit flips": _flip_bits,
    "insertion": _insert_bytes,
    "deletion": _delete_bytes,
    "random bytes": _random_bytes,
    "header field": _edit_header_field,
}


def mutated_inputs(files: list[tuple[str, bytes]], fmt: str, count: int, seed: int) -> Iterator[tuple[str, int, bytes]]:
    """``count`` mutated versions of a sample, seeded by ``fmt`` and ``seed``: (mutation, index of the file, bytes).

    The mutations take turns; each mutates one of the sample's files (for WFDB the header or the signal file);
    see :data:`CHECKSUMS_REDONE` and :data:`INFLATED`.
    """
    rng = random.Random(f"{fmt}:{seed}")
    names = list(MUTATIONS)
    for i in range(count):
        index = rng.randrange(len(files))
        original = files[index][1]
        if index == 0 and fmt in INFLATED and rng.random() < 0.5:
            original = INFLATED[fmt](original)
        data = MUTATIONS[names[i % len(names)]](original, rng)
        if index == 0 and fmt in CHECKSUMS_REDONE and rng.random() < 0.5:
            data = CHECKSUMS_REDONE[fmt](data)
        yield names[i % len(names)], index, data


@dataclass(frozen=True)
class Outcome:
    """How a forked read of one file ended.

    Attributes
    ----------
    result : str
        ``"record"``, ``"ECGFormatError"``, another exception's type name, ``"empty message"`` (an ECGFormatError
        without one), ``"signal SIGSEGV"`` (or another signal that killed the child) or ``"timeout"``.
    message : str
        The exception's message (its first 300 characters).
    seconds : float
        Wall time of the reads in s.
    memory_mb : float
        Peak resident memory of the child above its own at the fork, in MiB (NaN when it died before saying).
    """

    result: str
    message: str
    seconds: float
    memory_mb: float

    def within(self, seconds: float, memory_mb: float) -> bool:
        """A record or ECGFormatError, within ``seconds`` s and ``memory_mb`` MiB."""
        return self.result in ACCEPTED and self.seconds < seconds and self.memory_mb < memory_mb


def _status_kib(field: str) -> int:
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM) in KiB."""
    with open("/proc/self/status") as status:
        match = re.search(rf"^{field}:\s+(\d+)", status.read(), re.MULTILINE)
    assert match, field
    return int(match.group(1))


def _read_once(path: Path, fmt: str | None) -> tuple[str, str]:
    """(outcome, message) of one read of ``path``, detected when ``fmt`` is None."""
    try:
        read_ecg(path, fmt=fmt)
    except ECGFormatError as exc:
        return ("ECGFormatError" if str(exc).strip() else "empty message"), str(exc)[:300]
    except BaseException as exc:  # noqa: B036 - whatever escapes is the finding
        return type(exc).__name__, str(exc)[:300]
    return "record", ""


def _read_outcome(path: Path, fmt: str) -> tuple[str, str]:
    """Read ``path`` detected, then forced as ``fmt`` (so that its parser sees what detection refuses): the first
    outcome that is neither a record nor ECGFormatError, else the forced read's."""
    detected, forced = _read_once(path, None), _read_once(path, fmt)
    return next((o for o in (detected, forced) if o[0] not in ACCEPTED), forced)


def _child(path: Path, fmt: str, memory_mb: float, out: int) -> None:
    """In the forked child: limit the address space, reset the peak, read, report on ``out`` as JSON."""
    faulthandler.disable()  # a crash is the finding, reported by its signal, not a traceback
    with open("/proc/self/statm") as statm:
        address_space = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = address_space + int(2 * memory_mb * MB)
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # VmHWM := VmRSS
    before = _status_kib("VmRSS")
    started = time.perf_counter()
    result, message = _read_outcome(path, fmt)
    seconds = time.perf_counter() - started
    report = {"result": result, "message": message, "seconds": seconds,
              "memory_mb": (_status_kib("VmHWM") - before) / 1024}
    os.write(out, json.dumps(report).encode())


def read_forked(path: Path, fmt: str, *, seconds: float = FORKED_SECONDS,
                memory_mb: float = FORKED_MEMORY_MB) -> Outcome:
    """Read ``path`` (detected, then forced as ``fmt``) in a forked child and say how it ended.

    The child's address space may grow by twice ``memory_mb`` MiB (beyond that allocations fail with MemoryError);
    it is killed after ``seconds`` s of wall time. A crash in a library kills only the child.
    """
    ours, theirs = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            os.close(ours)
            _child(path, fmt, memory_mb, theirs)
            code = 0
        finally:
            os._exit(code)
    os.close(theirs)
    timed_out = not select.select([ours], [], [], seconds)[0]
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    with os.fdopen(ours, "rb") as pipe:
        report = pipe.read()
    _, status, _ = os.wait4(pid, 0)
    elapsed = time.perf_counter() - started
    if timed_out:
        return Outcome("timeout", f"killed after {seconds:g} s", elapsed, float("nan"))
    if os.WIFSIGNALED(status):
        return Outcome(f"signal {signal.Signals(os.WTERMSIG(status)).name}", "", elapsed, float("nan"))
    if not report:
        return Outcome(f"exit {os.WEXITSTATUS(status)}", "the child died without a report", elapsed, float("nan"))
    return Outcome(**json.loads(report))


def lay_out(files: list[tuple[str, bytes]], folder: Path, index: int, data: bytes) -> Path:
    """Write the sample into a clean ``folder`` with file ``index`` replaced by ``data``; the main file's path."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for i, (name, original) in enumerate(files):
        (folder / name).write_bytes(data if i == index else original)
    return folder / files[0][0]


def load_samples(shared: Path, out: Path) -> dict[str, list[tuple[str, bytes]]]:
    """Format name -> [(file name, bytes)] of its real sample's files, main file first (see the module's doc)."""
    return {fmt: [(path.name, path.read_bytes()) for path in _find_sample(fmt, shared, out)] for fmt in FORMAT_MODULES}


class Samples(dict):
    """Format name -> [(file name, bytes)] of its sample files, main file first (short repr for reports)."""

    def __repr__(self) -> str:
        return f"Samples({ {fmt: [name for name, _ in files] for fmt, files in self.items()} })"


@pytest.fixture(scope="module")
def samples(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return Samples(load_samples(shared_data, tmp_path_factory.mktemp("fuzz-samples")))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _only_format_errors(path: Path, fmt: str) -> None:
    """Read ``path`` detected and forced as ``fmt``: a record or ECGFormatError are the only outcomes."""
    for forced in (None, fmt):
        try:
            read_ecg(path, fmt=forced)
        except ECGFormatError as exc:
            assert str(exc).strip(), "ECGFormatError without a message"


class TestSamples:
    @pytest.mark.parametrize("fmt", list(FORMAT_MODULES))
    def test_every_format_has_a_readable_sample(self, fmt, samples, workdir):
        files = samples[fmt]
        assert files, f"no sample file for format {fmt!r}: add one under shared/data/formats or give it a writer"
        path = lay_out(files, workdir / "intact" / fmt, 0, files[0][1])
        record = read_ecg(path)
        assert record.meta["format"] == fmt
        assert record.n_samples > 0


class TestSystematic:
    """Deterministic sweeps over the headers, where parsers are most fragile."""

    @pytest.mark.parametrize("fmt", list(FORMAT_MODULES))
    def test_truncated_every_32_bytes_of_the_head(self, fmt, samples, workdir):
        for index, (_, original) in enumerate(samples[fmt]):
            cuts = sorted({*range(0, min(len(original), 1024), 32), *np.linspace(0, len(original) - 1, 16, dtype=int)})
            for keep in cuts:
                _only_format_errors(lay_out(samples[fmt], workdir / "cut" / fmt, index, original[:keep]), fmt)

    @pytest.mark.parametrize("fmt", list(FORMAT_MODULES))
    def test_each_byte_of_the_head_altered(self, fmt, samples, workdir):
        for index, (_, original) in enumerate(samples[fmt]):
            for offset in range(min(len(original), 160)):
                mutated = bytearray(original)
                mutated[offset] ^= 0x01 if offset % 2 else 0x20
                _only_format_errors(lay_out(samples[fmt], workdir / "byte" / fmt, index, bytes(mutated)), fmt)


class TestForked:
    """Every mutation of every format's sample, each read in a bounded child: the seeded sample of ``make test``."""

    @pytest.mark.parametrize("fmt", list(FORMAT_MODULES))
    def test_mutations_end_in_a_record_or_a_format_error_within_bounds(self, fmt, samples, workdir):
        failures = []
        for mutation, index, data in mutated_inputs(samples[fmt], fmt, 2 * len(MUTATIONS), seed=0):
            outcome = read_forked(lay_out(samples[fmt], workdir / "forked" / fmt, index, data), fmt)
            if not outcome.within(FORKED_SECONDS, FORKED_MEMORY_MB):
                failures.append((mutation, outcome))
        assert not failures

    def test_scp_checksums_redone_let_a_mutation_reach_the_sections(self, samples, workdir):
        original = samples["scp-ecg"][0][1]
        assert _scp_checksums_redone(original) == original  # the real file's checksums are right
        cut = bytearray(original)
        cut[-200] ^= 0xFF  # in the last section's body
        path = lay_out(samples["scp-ecg"], workdir / "crc", 0, bytes(cut))
        with pytest.raises(ECGFormatError, match="CRC"):
            read_ecg(path)
        path.write_bytes(_scp_checksums_redone(bytes(cut)))
        assert read_ecg(path).n_samples > 0

    def test_the_inflated_mat_file_holds_the_same_record(self, samples, workdir):
        original = samples["matlab"][0][1]
        inflated = _mat_inflated(original)
        assert len(inflated) > len(original) and MAT_COMPRESSED not in {struct.unpack_from("<I", inflated, 128)[0]}
        records = [read_ecg(lay_out(samples["matlab"], workdir / f"mat{i}", 0, data)) for i, data in
                   enumerate((original, inflated))]
        assert records[0].leads == records[1].leads and np.array_equal(records[0].signal, records[1].signal)

    def test_each_mutation_changes_the_file(self, samples):
        files = samples["wfdb"][:1]
        for seed in range(5):
            for mutation, _, data in mutated_inputs(files, "wfdb", len(MUTATIONS), seed):
                assert data != files[0][1], mutation


class TestFindings:
    """The inputs of the 100,000-input bench (2026-12-03) that killed the reading child: each is now refused with
    ECGFormatError, naming what is damaged, in a fraction of the forked bounds."""

    @pytest.mark.parametrize(
        "name,message",
        [  # scipy.io.loadmat segfaulted on each (its C reader trusts element types and matrix byte counts)
            ("matlab_seed12_input43_bit-flips", r"variable 'leads', cell 11: its data is stored as data type 528"),
            ("matlab_seed66_input49_bit-flips", r"variable 'ecg': its imaginary part is missing"),
            ("matlab_seed103_input49_bit-flips", r"variable 'leads', cell 11: a sparse matrix"),
            ("matlab_seed133_input7_bit-flips", r"variable 'ecg': its data is stored as data type 15,"),
            ("matlab_seed158_input57_deletion", r"variable 'leads', cell 8: its data is stored as data type 14,"),
        ],
    )
    def test_refused_within_bounds(self, name, message, workdir):
        path = workdir / "findings" / f"{name}.mat"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(gzip.decompress((FINDINGS / f"{name}.mat.gz").read_bytes()))
        outcome = read_forked(path, name.split("_")[0])
        assert outcome.result == "ECGFormatError", outcome
        assert re.search(f"^{name}.mat: damaged MAT-file: {message}", outcome.message), outcome.message
        assert outcome.within(2.0, 32), outcome


class TestHarness:
    """The forked reader reports what it is meant to catch (a reader replaced in the parent is the child's too)."""

    @pytest.fixture()
    def csv_file(self, samples, workdir) -> Path:
        return lay_out(samples["csv"], workdir / "harness", 0, samples["csv"][0][1])

    def _reader(self, monkeypatch: pytest.MonkeyPatch, read: Callable[..., object]) -> None:
        monkeypatch.setattr(format_module("csv"), "read", read)

    def test_a_record_within_bounds(self, csv_file):
        outcome = read_forked(csv_file, "csv")
        assert outcome.result == "record" and outcome.within(FORKED_SECONDS, FORKED_MEMORY_MB)
        assert 0 <= outcome.memory_mb < FORKED_MEMORY_MB

    def test_an_escaping_exception_is_named(self, csv_file, monkeypatch):
        def read(path: Path, **_: object) -> None:
            raise KeyboardInterrupt("not a format error")

        self._reader(monkeypatch, read)
        outcome = read_forked(csv_file, "csv")
        assert (outcome.result, outcome.message) == ("KeyboardInterrupt", "not a format error")
        assert not outcome.within(FORKED_SECONDS, FORKED_MEMORY_MB)

    def test_a_crash_costs_only_the_child(self, csv_file, monkeypatch):
        self._reader(monkeypatch, lambda path, **_: os.kill(os.getpid(), signal.SIGSEGV))
        assert read_forked(csv_file, "csv").result == "signal SIGSEGV"

    def test_a_hang_is_killed(self, csv_file, monkeypatch):
        self._reader(monkeypatch, lambda path, **_: time.sleep(30))
        started = time.perf_counter()
        assert read_forked(csv_file, "csv", seconds=0.5).result == "timeout"
        assert time.perf_counter() - started < 5

    def test_peak_memory_is_measured_and_limited(self, csv_file, monkeypatch):
        def read(path: Path, **_: object) -> None:
            np.ones(40 * MB // 8)  # 40 MiB touched, then freed
            np.ones(600 * MB // 8)  # beyond twice the 200 MiB bound: MemoryError -> ECGFormatError

        self._reader(monkeypatch, read)
        outcome = read_forked(csv_file, "csv", memory_mb=200)
        assert outcome.result == "ECGFormatError" and "too large" in outcome.message
        assert 38 < outcome.memory_mb < 400 and not outcome.within(FORKED_SECONDS, 30)
