"""Fuzzing every registered format: random, truncated and bit-flipped bytes of a real file of each format
must give an ECGRecord or ECGFormatError, never another exception.

The sample of a format is the first file under ``../shared/data/formats`` detected and read as that format; for WFDB
a real PTB-XL record; otherwise a real PTB-XL record written by the format's own writer. A newly registered
format without any of these fails :class:`TestSamples` until a sample is provided.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardioscreen.errors import ECGFormatError
from cardioscreen.io import FORMAT_MODULES, read_ecg
from cardioscreen.io.registry import detect_format, format_module

SETTINGS = settings(
    max_examples=50, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
WFDB_SAMPLE = ("ptbxl", "records100", "00000", "00001_lr")


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


class Samples(dict):
    """Format name -> [(file name, bytes)] of its sample files, main file first (short repr for reports)."""

    def __repr__(self) -> str:
        return f"Samples({ {fmt: [name for name, _ in files] for fmt, files in self.items()} })"


@pytest.fixture(scope="module")
def samples(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Samples:
    out = tmp_path_factory.mktemp("fuzz-samples")
    return Samples(
        (fmt, [(path.name, path.read_bytes()) for path in _find_sample(fmt, shared_data, out)])
        for fmt in FORMAT_MODULES
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _lay_out(files: list[tuple[str, bytes]], folder: Path, index: int, data: bytes) -> Path:
    """Write the sample into a clean ``folder`` with file ``index`` replaced by ``data``; the main file's path."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for i, (name, original) in enumerate(files):
        (folder / name).write_bytes(data if i == index else original)
    return folder / files[0][0]


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
        path = _lay_out(files, workdir / "intact" / fmt, 0, files[0][1])
        record = read_ecg(path)
        assert record.meta["format"] == fmt
        assert record.n_samples > 0


class TestFuzz:
    @pytest.mark.parametrize("fmt", list(FORMAT_MODULES))
    @SETTINGS
    @given(data=st.data())
    def test_truncated(self, fmt, samples, workdir, data):
        files = samples[fmt]
        index = data.draw(st.integers(0, len(files) - 1), label="file")
        original = files[index][1]
        keep = data.draw(st.one_of(st.integers(0, min(len(original), 512)), st.integers(0, len(original) - 1)))
        _only_format_errors(_lay_out(files, workdir / "truncated" / fmt, index, original[:keep]), fmt)

    @pytest.mark.parametrize("fmt", list(FORMAT_MODULES))
    @SETTINGS
    @given(data=st.data())
    def test_bit_flips(self, fmt, samples, workdir, data):
        files = samples[fmt]
        index = data.draw(st.integers(0, len(files) - 1), label="file")
        mutated = bytearray(files[index][1])
        position = st.one_of(st.integers(0, min(len(mutated), 1024) - 1), st.integers(0, len(mutated) - 1))
        for offset, bit in data.draw(st.lists(st.tuples(position, st.integers(0, 7)), min_size=1, max_size=16)):
            mutated[offset] ^= 1 << bit
        _only_format_errors(_lay_out(files, workdir / "flipped" / fmt, index, bytes(mutated)), fmt)

    @pytest.mark.parametrize("fmt", list(FORMAT_MODULES))
    @SETTINGS
    @given(data=st.data())
    def test_random_bytes(self, fmt, samples, workdir, data):
        files = samples[fmt]
        index = data.draw(st.integers(0, len(files) - 1), label="file")
        head = data.draw(st.sampled_from([b"", files[index][1][:16]]), label="kept signature")
        junk = head + data.draw(st.binary(max_size=4096), label="bytes")
        _only_format_errors(_lay_out(files, workdir / "random" / fmt, index, junk), fmt)


class TestSystematic:
    """Deterministic sweeps over the headers, where parsers are most fragile."""

    @pytest.mark.parametrize("fmt", list(FORMAT_MODULES))
    def test_truncated_every_32_bytes_of_the_head(self, fmt, samples, workdir):
        for index, (_, original) in enumerate(samples[fmt]):
            cuts = sorted({*range(0, min(len(original), 1024), 32), *np.linspace(0, len(original) - 1, 16, dtype=int)})
            for keep in cuts:
                _only_format_errors(_lay_out(samples[fmt], workdir / "cut" / fmt, index, original[:keep]), fmt)

    @pytest.mark.parametrize("fmt", list(FORMAT_MODULES))
    def test_each_byte_of_the_head_altered(self, fmt, samples, workdir):
        for index, (_, original) in enumerate(samples[fmt]):
            for offset in range(min(len(original), 160)):
                mutated = bytearray(original)
                mutated[offset] ^= 0x01 if offset % 2 else 0x20
                _only_format_errors(_lay_out(samples[fmt], workdir / "byte" / fmt, index, bytes(mutated)), fmt)
