"""The WFDB fast path (own header parser, numpy read) against the wfdb library path on every real WFDB record."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import wfdb

from cardioscreen.errors import ECGFormatError
from cardioscreen.io import wfdb_format
from cardioscreen.io.wfdb_header import parse_simple_header
from cardioscreen.record import ECGRecord

WFDB_FOLDERS = ("ptbxl/records500", "ptbxl/records100", "challenge", "mitdb", "ludb")
FAST_FOLDERS = ("ptbxl/records500", "ptbxl/records100", "challenge", "ludb")
"""Folders whose format-16 records are all simple ones that the fast path must take (FLAC, format 516, is read
by the wfdb library)."""


def _headers(shared_data: Path, folder: str) -> list[Path]:
    headers = sorted((shared_data / folder).rglob("*.hea"))
    assert headers, f"no WFDB records under {folder}"
    return headers


def _library_read(header: Path, monkeypatch: pytest.MonkeyPatch) -> ECGRecord:
    with monkeypatch.context() as patch:
        patch.setattr(wfdb_format, "parse_simple_header", lambda raw: None)
        return wfdb_format.read(header)


def _assert_same(fast: ECGRecord, slow: ECGRecord) -> None:
    assert fast.signal.dtype == slow.signal.dtype == np.float32
    np.testing.assert_array_equal(fast.signal, slow.signal)
    assert (fast.fs, fast.leads, fast.meta) == (slow.fs, slow.leads, slow.meta)


class TestFastPathEqualsLibrary:
    @pytest.mark.parametrize("folder", WFDB_FOLDERS)
    def test_every_record_identical(self, shared_data: Path, folder: str, monkeypatch: pytest.MonkeyPatch) -> None:
        for header in _headers(shared_data, folder):
            _assert_same(wfdb_format.read(header), _library_read(header, monkeypatch))

    @pytest.mark.parametrize("folder", FAST_FOLDERS)
    def test_fast_path_taken(self, shared_data: Path, folder: str) -> None:
        taken = 0
        for header in _headers(shared_data, folder):
            raw = header.read_bytes()
            if "516" in wfdb.rdheader(str(header.with_suffix(""))).fmt:
                assert parse_simple_header(raw) is None, header  # FLAC: left to wfdb
            else:
                assert parse_simple_header(raw) is not None, header
                taken += 1
        assert taken >= 50

    def test_format_212_left_to_wfdb(self, shared_data: Path) -> None:
        for header in _headers(shared_data, "mitdb"):
            if b" 212 " in header.read_bytes():
                assert parse_simple_header(header.read_bytes()) is None


class TestHeaderSubset:
    BASE = b"r1 2 500 10\nr1.dat 16 1000(0)/mV 16 0 0 0 0 I\nr1.dat 16 1000(0)/mV 16 0 0 0 0 II\n"

    def test_parsed_fields(self) -> None:
        head = parse_simple_header(b"# Age: 50\n" + self.BASE.replace(b"1000(0)/mV 16 0", b"200/uV 12 7", 1))
        assert head is not None
        assert (head.n_sig, head.fs, head.sig_len) == (2, 500.0, 10)
        assert head.adc_gain == (200.0, 1000.0) and head.baseline == (7, 0)  # baseline defaults to ADC zero
        assert head.units == ("uV", "mV") and head.sig_name == ("I", "II") and head.comments == ("Age: 50",)

    @pytest.mark.parametrize("old,new", [
        (b"r1 2", b"r1/2 2"),  # multi-segment
        (b"r1.dat 16 ", b"r1.dat 212 "),  # packed format
        (b"r1.dat 16 ", b"r1.dat 16x2 "),  # samples per frame
        (b"r1.dat 16 ", b"r1.dat 16:3 "),  # skew
        (b"1000(0)/mV 16 0 0 0 0 II", b"1000(0)/mV 16 0 0 0 0 II\nr2.dat 16 1000(0)/mV 16 0 0 0 0 V1"),
        (b"1000(0)", b"0(0)"),  # uncalibrated gain
        (b"500 10", b"500"),  # no signal length
        (b"1000(0)/mV", b"1000(0)"),  # no units
    ])
    def test_outside_subset_left_to_wfdb(self, old: bytes, new: bytes) -> None:
        assert parse_simple_header(self.BASE.replace(old, new, 1)) is None

    def test_truncated_signal_file_raises(self, shared_data: Path, tmp_path: Path) -> None:
        source = _headers(shared_data, "ptbxl/records500")[0]
        for part in source.parent.glob(source.stem + ".*"):
            shutil.copy(part, tmp_path / part.name)
        data = tmp_path / f"{source.stem}.dat"
        data.write_bytes(data.read_bytes()[:1000])
        with pytest.raises(ECGFormatError, match="truncated"):
            wfdb_format.read(tmp_path / source.name)
