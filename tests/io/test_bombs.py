"""Hostile files made from the real ones in ../shared/data: decompression bombs, huge declared sizes and the fuzzing
findings of issue 14. Each must be refused with ECGFormatError within a time and a peak-memory bound (measured with
tracemalloc, which counts NumPy's, zlib's and Python's allocations), before anything of its declared size is built.
"""

from __future__ import annotations

import base64
import re
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest

from cardioscreen.errors import ECGFormatError
from cardioscreen.io import read_ecg
from cardioscreen.io.common import MAX_DECODED_BYTES
from cardioscreen.io.scp_ecg.huffman import MAX_TABLES, decode, parse_tables
from cardioscreen.record import MAX_SAMPLES_PER_RECORD

MB = 1_000_000
ZEROS = bytes(MB)


def refused(path: Path, match: str, *, peak_mb: float = 24, seconds: float = 3.0) -> str:
    """Read ``path``: it must raise ECGFormatError matching ``match`` within ``seconds`` and ``peak_mb`` MB."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ECGFormatError, match=match) as caught:
            read_ecg(path)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    assert elapsed < seconds, f"refused after {elapsed:.1f} s"
    assert peak < peak_mb, f"peak memory {peak:.0f} MB while refusing {path.name}"
    return str(caught.value)


def _zeros(n_bytes: int) -> Iterator[bytes]:
    for start in range(0, n_bytes, MB):
        yield ZEROS[: min(MB, n_bytes - start)]


def _deflated(parts: Iterator[bytes], wbits: int = zlib.MAX_WBITS) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return b"".join(packer.compress(part) for part in parts) + packer.flush()


def _npy_header(shape: tuple[int, ...], descr: str) -> bytes:
    out = BytesIO()
    np.lib.format.write_array_header_1_0(out, {"descr": descr, "fortran_order": False, "shape": shape})
    return out.getvalue()


def _npz_member(archive: zipfile.ZipFile, name: str, shape: tuple[int, ...], descr: str = "<f4") -> None:
    """A member of zeros of ``shape`` streamed into the archive (never held whole in memory)."""
    n_bytes = int(np.prod(shape)) * np.dtype(descr).itemsize
    with archive.open(name, "w", force_zip64=True) as member:
        member.write(_npy_header(shape, descr))
        for chunk in _zeros(n_bytes):
            member.write(chunk)


@pytest.fixture(scope="module")
def ptbxl_signal(ptbxl_dir: Path) -> np.ndarray:
    return read_ecg(ptbxl_dir / "records500" / "00000" / "00001_hr.hea").signal


class TestNumpy:
    def test_npz_of_twelve_leads_of_a_million_zeros(self, tmp_path: Path) -> None:
        path = tmp_path / "bomb.npz"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            _npz_member(archive, "signal.npy", (12, 1_000_000))
        assert path.stat().st_size < 100_000
        assert str(MAX_SAMPLES_PER_RECORD) in refused(path, "larger than any accepted record")

    def test_npz_members_beside_the_signal_are_never_inflated(self, tmp_path: Path, ptbxl_signal) -> None:
        path = tmp_path / "padded.npz"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open("signal.npy", "w") as member:
                np.save(member, ptbxl_signal)
            for i in range(3):
                _npz_member(archive, f"junk{i}.npy", (40 * MB,), "|u1")
        record = None
        tracemalloc.start()
        try:
            record = read_ecg(path, fs=500)
            peak = tracemalloc.get_traced_memory()[1] / MB
        finally:
            tracemalloc.stop()
        assert record.n_samples == 5000 and record.n_leads == 12
        assert peak < 10, f"{peak:.0f} MB to read a 240 KB signal"

    def test_npz_whose_arrays_inflate_past_the_limit(self, tmp_path: Path) -> None:
        path = tmp_path / "many.npz"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for i in range(3):
                _npz_member(archive, f"a{i}.npy", (12, 1_000_000 // 2), "<f8")
        refused(path, "inflate to")

    def test_lead_names_beyond_unicode(self, tmp_path: Path, ptbxl_signal) -> None:
        path = tmp_path / "names.npz"
        with zipfile.ZipFile(path, "w") as archive:
            with archive.open("signal.npy", "w") as member:
                np.save(member, ptbxl_signal)
            with archive.open("leads.npy", "w") as member:
                member.write(_npy_header((12,), "<U2") + struct.pack("<24I", *([0x110000, 0x41] * 12)))
        refused(path, "beyond Unicode")

    def test_corrupt_lzma_member(self, tmp_path: Path, ptbxl_signal) -> None:
        path = tmp_path / "lzma.npz"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_LZMA) as archive, archive.open("signal.npy", "w") as member:
            np.save(member, ptbxl_signal)
        raw = bytearray(path.read_bytes())
        raw[200:240] = bytes(range(40))
        path.write_bytes(bytes(raw))
        assert "LZMAError" in refused(path, "^lzma.npz: ")


def _mat5(variables: Iterator[bytes]) -> bytes:
    header = b"MATLAB 5.0 MAT-file, hostile test".ljust(116) + bytes(8) + struct.pack("<H", 0x0100) + b"IM"
    return header + b"".join(variables)


def _cell_of_zeros(name: bytes, rows: int, cols: int) -> bytes:
    """A compressed 1 x 1 cell array holding a ``rows`` x ``cols`` double matrix of zeros (MAT level 5 layout)."""
    data_bytes = 8 * rows * cols
    inner = (struct.pack("<II", 6, 8) + struct.pack("<II", 6, 0) + struct.pack("<II", 5, 8)
             + struct.pack("<ii", rows, cols) + struct.pack("<II", 1, 0) + struct.pack("<II", 9, data_bytes))
    outer_head = (struct.pack("<II", 6, 8) + struct.pack("<II", 1, 0) + struct.pack("<II", 5, 8)
                  + struct.pack("<ii", 1, 1) + struct.pack("<II", 1, len(name)) + name.ljust(8, b"\0"))
    inner_total = len(inner) + data_bytes
    outer_total = len(outer_head) + 8 + inner_total
    stream = iter([struct.pack("<II", 14, outer_total), outer_head, struct.pack("<II", 14, inner_total), inner,
                   *_zeros(data_bytes)])
    packed = _deflated(stream)
    return struct.pack("<II", 15, len(packed)) + packed


def _element(kind: int, data: bytes) -> bytes:
    """A MAT level 5 data element: its tag, ``data`` and the padding to 8 bytes."""
    return struct.pack("<II", kind, len(data)) + data + bytes(-len(data) % 8)


def _matrix(mclass: int, dims: tuple[int, ...], name: bytes, *parts: bytes, flags: int = 0) -> bytes:
    """A miMATRIX element of array class ``mclass``: array flags, dimensions, name, then ``parts``."""
    body = (_element(6, struct.pack("<II", mclass | flags, 0)) + _element(5, struct.pack(f"<{len(dims)}i", *dims))
            + _element(1, name) + b"".join(parts))
    return struct.pack("<II", 14, len(body)) + body


def _doubles(n: int, kind: int = 9) -> bytes:
    return _element(kind, np.arange(n, dtype="<f8").tobytes())


def _nested_cells(depth: int) -> bytes:
    """A variable ``x``: a 1 x 1 cell holding a 1 x 1 cell ... ``depth`` deep, around a 1 x 1 double."""
    inner = _matrix(6, (1, 1), b"", _doubles(1))
    for level in range(depth):
        inner = _matrix(1, (1, 1), b"x" if level == depth - 1 else b"", inner)
    return inner


def _compressed(variable: bytes) -> bytes:
    packed = zlib.compress(variable)
    return struct.pack("<II", 15, len(packed)) + packed


class TestMatlab:
    """Crafted MAT-files that crashed scipy.io.loadmat (SIGSEGV; the fuzz findings are in test_fuzz.TestFindings)
    or that hold more than they show: refused by the structure check before scipy reads them."""

    def test_cell_array_hiding_a_twelve_by_1_1m_matrix(self, tmp_path: Path) -> None:
        path = tmp_path / "cell.mat"
        path.write_bytes(_mat5(iter([_cell_of_zeros(b"ecg", 12, 1_100_000)])))
        assert path.stat().st_size < 200_000
        refused(path, "variable 'ecg', cell 1: dimensions \\[12, 1100000\\] hold more elements than any record")

    def test_cell_arrays_inflating_past_the_limit(self, tmp_path: Path) -> None:
        path = tmp_path / "cells.mat"
        path.write_bytes(_mat5(iter([_cell_of_zeros(b"a", 12, 500_000), _cell_of_zeros(b"b", 12, 500_000)])))
        assert path.stat().st_size < 200_000
        assert str(MAX_DECODED_BYTES) in refused(path, "its variables hold more than")

    def test_the_crafted_layout_reads(self, tmp_path: Path) -> None:
        path = tmp_path / "ok.mat"
        path.write_bytes(_mat5(iter([_matrix(6, (2, 1000), b"ecg", _doubles(2000)), _compressed(_nested_cells(3))])))
        record = read_ecg(path, fs=500)
        assert record.signal.shape == (2, 1000) and record.signal[1, 999] == 1999

    @pytest.mark.parametrize("kind", [0, 8, 10, 11, 14, 15, 19, 20, 528, 1 << 15])
    def test_numeric_data_of_a_type_outside_scipys_table(self, kind: int, tmp_path: Path) -> None:
        path = tmp_path / "type.mat"
        path.write_bytes(_mat5(iter([_matrix(6, (2, 1000), b"ecg", _doubles(2000, kind))])))
        refused(path, f"variable 'ecg': its data is stored as data type {kind}, not a numeric")

    def test_text_of_a_numeric_type(self, tmp_path: Path) -> None:
        path = tmp_path / "text.mat"
        path.write_bytes(_mat5(iter([_matrix(4, (1, 2), b"sex", _doubles(2))])))
        refused(path, "variable 'sex': its data is stored as data type 9, not a text")

    def test_complex_flag_without_an_imaginary_part(self, tmp_path: Path) -> None:
        """scipy read the next variable's miMATRIX tag as the imaginary part."""
        path = tmp_path / "complex.mat"
        ecg = _matrix(6, (2, 1000), b"ecg", _doubles(2000), flags=0x800)
        path.write_bytes(_mat5(iter([ecg, _matrix(6, (1, 1), b"fs", _doubles(1))])))
        refused(path, "variable 'ecg': its imaginary part is missing")

    def test_sparse_matrix(self, tmp_path: Path) -> None:
        path = tmp_path / "sparse.mat"
        path.write_bytes(_mat5(iter([_matrix(5, (2, 2), b"sp", _element(5, bytes(4)), _element(5, bytes(12)),
                                             _doubles(1))])))
        refused(path, "variable 'sp': a sparse matrix")

    @pytest.mark.parametrize("depth", [33, 20_000])
    def test_cells_nested_deeper_than_the_limit(self, depth: int, tmp_path: Path) -> None:
        """20,000 levels (a 40 KB file) overflowed scipy's C stack."""
        path = tmp_path / "deep.mat"
        path.write_bytes(_mat5(iter([_compressed(_nested_cells(depth))])))
        refused(path, "nested more than 32 deep", seconds=1.0)

    def test_cells_nested_to_the_limit_pass_the_check(self, tmp_path: Path) -> None:
        path = tmp_path / "deep.mat"
        path.write_bytes(_mat5(iter([_compressed(_nested_cells(32))])))
        refused(path, "no ECG signal found")  # scipy read it; the reader found no signal in it

    def test_cell_running_past_its_variable(self, tmp_path: Path) -> None:
        cell = bytearray(_matrix(1, (1, 2), b"c", _matrix(6, (1, 1), b"", _doubles(1)),
                                 _matrix(6, (1, 1), b"", _doubles(1))))
        struct.pack_into("<I", cell, 4, len(cell) - 8 - 56)  # the cell's byte count leaves out its second cell
        path = tmp_path / "short.mat"
        path.write_bytes(_mat5(iter([bytes(cell), _matrix(6, (2, 1000), b"ecg", _doubles(2000))])))
        refused(path, "variable 'c', cell 2: its array flags are missing \\(0 bytes left of the variable\\)")

    def test_million_cells_in_a_few_bytes(self, tmp_path: Path) -> None:
        path = tmp_path / "cells.mat"
        path.write_bytes(_mat5(iter([_compressed(_matrix(1, (1, 1_000_000), b"c", _matrix(6, (1, 1), b"")))])))
        refused(path, "1000000 cells cannot fit")

    def test_compressed_variable_cut_short(self, tmp_path: Path) -> None:
        packed = zlib.compress(_matrix(6, (2, 1000), b"ecg", _doubles(2000)))[:-200]
        path = tmp_path / "cut.mat"
        path.write_bytes(_mat5(iter([struct.pack("<II", 15, len(packed)) + packed])))
        refused(path, "run past the end of its compressed data")


class TestDicom:
    @staticmethod
    def _deflated_copy(source: Path, target: Path, private_bytes: int) -> None:
        """``source`` rewritten with the Deflated transfer syntax and a private element of zeros at its end."""
        import pydicom
        from pydicom.filebase import DicomBytesIO
        from pydicom.filewriter import write_dataset, write_file_meta_info

        ds = pydicom.dcmread(source)
        ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
        meta, body = DicomBytesIO(), DicomBytesIO()
        write_file_meta_info(meta, ds.file_meta)
        body.is_little_endian, body.is_implicit_VR = True, False
        write_dataset(body, ds)
        element = struct.pack("<HH2sHI", 0x7FE1, 0x1010, b"OB", 0, private_bytes)
        stream = _deflated(iter([body.getvalue(), element, *_zeros(private_bytes)]), -zlib.MAX_WBITS)
        target.write_bytes(bytes(128) + b"DICM" + meta.getvalue() + stream)

    def test_deflated_dataset_with_a_huge_private_element(self, tmp_path: Path, shared_data: Path) -> None:
        path = tmp_path / "bomb.dcm"
        self._deflated_copy(shared_data / "formats" / "dicom" / "ecgtoolkit_example.dcm", path, 120 * MB)
        assert path.stat().st_size < 400_000
        assert str(MAX_DECODED_BYTES) in refused(path, "inflate to more than")

    def test_deflated_copy_without_the_bomb_reads_as_the_original(self, tmp_path: Path, shared_data: Path) -> None:
        source = shared_data / "formats" / "dicom" / "ecgtoolkit_example.dcm"
        path = tmp_path / "deflated.dcm"
        self._deflated_copy(source, path, 16)
        np.testing.assert_array_equal(read_ecg(path).signal, read_ecg(source).signal)

    def test_damaged_deflate_stream(self, tmp_path: Path, shared_data: Path) -> None:
        path = tmp_path / "damaged.dcm"
        self._deflated_copy(shared_data / "formats" / "dicom" / "ecgtoolkit_example.dcm", path, 16)
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2 : len(raw) // 2 + 64] = b"\xff" * 64
        path.write_bytes(bytes(raw))
        refused(path, "damaged compressed data")


@pytest.fixture(scope="module")
def muse_text(shared_data: Path) -> str:
    return (shared_data / "formats" / "ge-muse" / "musephi_muse_ecg1.xml").read_text()


class TestMuse:
    def test_sample_exponent_of_seven_million(self, tmp_path: Path, muse_text: str) -> None:
        path = tmp_path / "exponent.xml"
        path.write_text(re.sub(r"<SampleExponent>[^<]*<", "<SampleExponent>7999999<", muse_text))
        refused(path, "no valid sampling rate", seconds=1.0)

    def test_missing_sample_base(self, tmp_path: Path, muse_text: str) -> None:
        path = tmp_path / "nobase.xml"
        path.write_text(re.sub(r"<SampleBase>[^<]*</SampleBase>", "", muse_text))
        refused(path, "no valid sampling rate")

    def test_sample_count_of_5001_digits(self, tmp_path: Path, muse_text: str) -> None:
        path = tmp_path / "digits.xml"
        path.write_text(re.sub(r"<LeadSampleCountTotal>[^<]*<", f"<LeadSampleCountTotal>{'9' * 5001}<", muse_text,
                               count=1))
        refused(path, "declared")


def test_csv_header_of_100000_columns(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["time_s", *(f"V{i}" for i in range(100_000))]) + "\n" + ",".join(["0"] * 100_001) + "\n")
    refused(path, "100001 columns", seconds=1.0)


def test_scp_section_of_3000_huffman_tables() -> None:
    one_code = struct.pack("<H", 1) + struct.pack("<BBBhI", 1, 1, 1, 0, 0)
    with pytest.raises(ECGFormatError, match=f"at most {MAX_TABLES}"):
        parse_tables(struct.pack("<H", 3000) + one_code * 3000)


def test_scp_tables_are_built_only_when_switched_to() -> None:
    """64 tables of 16-bit codes, the data using only the first: decoding stays within a few MB."""
    table = struct.pack("<H", 2) + struct.pack("<BBBhI", 16, 16, 1, 5, 0) + struct.pack("<BBBhI", 1, 1, 1, 7, 1)
    tables = parse_tables(struct.pack("<H", MAX_TABLES) + table * MAX_TABLES)
    tracemalloc.start()
    try:
        values = decode(b"\xff" * 100, 800, tables)
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    assert values.tolist() == [7] * 800
    assert peak < 8, f"{peak:.0f} MB"


def test_sierra_lzw_stream_opening_with_an_undefined_code(tmp_path: Path, shared_data: Path) -> None:
    text = (shared_data / "formats" / "philips-sierra" / "sierra_1.03_129DYPRG.xml").read_text()
    match = re.search(r"(<parsedwaveforms[^>]*>)(.*?)</parsedwaveforms>", text, re.S)
    assert match
    data = bytearray(base64.b64decode(match.group(2)))
    data[8:10] = b"\x40\xc0"  # the first 10-bit LZW code is 259: no code above 255 is defined yet
    path = tmp_path / "lzw.xml"
    path.write_text(text[: match.start(2)] + base64.b64encode(bytes(data)).decode() + text[match.end(2):])
    refused(path, "damaged LZW codes")


class TestWfdb:
    def test_flac_header_naming_a_missing_signal_file(self, tmp_path: Path, ptbxl_dir: Path) -> None:
        """The signal files of a FLAC (format 516) header are checked like the others: named in the message, and
        the server's folders are not."""
        import wfdb  # noqa: F401 - FLAC headers go to the wfdb library: its import is not the refusal's memory

        source = ptbxl_dir / "records500" / "01000" / "01001_hr.hea"
        header = source.read_text()
        assert " 516 " in header
        path = tmp_path / "01001_hr.hea"
        path.write_text(header.replace("01001_hr_2.dat", "01001_hr_9.dat"))
        (tmp_path / "01001_hr_1.dat").write_bytes(source.with_name("01001_hr_1.dat").read_bytes())
        message = refused(path, "signal file 01001_hr_9.dat is missing")
        assert str(tmp_path) not in message

    def test_cinc_2020_header_naming_the_record_with_mat_and_a_date(self, tmp_path: Path, shared_data: Path) -> None:
        """The 2020 release's Georgia headers: ``E00015.mat 12 500 5000 05-May-2020 14:50:55``."""
        source = shared_data / "challenge" / "georgia" / "E00015.hea"
        lines = source.read_text().splitlines()
        assert lines[0].startswith("E00015 ") and "-2020" in lines[0]
        path = tmp_path / "E00015.hea"
        path.write_text("\n".join([lines[0].replace("E00015 ", "E00015.mat ", 1), *lines[1:]]) + "\n")
        (tmp_path / "E00015.mat").write_bytes(source.with_suffix(".mat").read_bytes())
        record, original = read_ecg(path), read_ecg(source)
        np.testing.assert_array_equal(record.signal, original.signal)
        assert record.meta["dx"] == original.meta["dx"] == ["251146004", "284470004"]
