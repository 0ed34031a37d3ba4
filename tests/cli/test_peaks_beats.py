"""``cardioscreen peaks`` and ``cardioscreen beats`` on real files, through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cardioscreen.cli import main
from cardioscreen.io import read_ecg
from cardioscreen.signal.peaks import ecg_peaks


class TestPeaksCommand:
    def test_json_format(self, example_record_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["peaks", str(example_record_path), "--json"]) == 0
        out = capsys.readouterr().out
        data = json.loads(out)
        assert list(data) == ["fs", "r_peaks"] and data["fs"] == 500
        assert out.startswith('{"fs": 500, "r_peaks": [')
        record = read_ecg(example_record_path)
        assert data["r_peaks"] == ecg_peaks(record.signal, record.fs)[0].tolist()

    def test_json_at_file_rate_with_all_leads(self, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = shared_data / "ludb" / "1.hea"
        assert main(["peaks", str(path), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        record = read_ecg(path)
        assert data["fs"] == 500 and data["r_peaks"] == ecg_peaks(record.signal, record.fs)[0].tolist()

    def test_table(self, example_record_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["peaks", str(example_record_path)]) == 0
        out = capsys.readouterr().out
        assert "11 R-peaks" in out and "leads used: I, II" in out
        assert len([line for line in out.splitlines() if line.split()[0].isdigit() and len(line.split()) == 3]) == 11

    def test_bad_file_is_one_line_error(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        bad = tmp_path / "empty.hea"
        bad.write_bytes(b"")
        assert main(["peaks", str(bad), "--json"]) == 2
        captured = capsys.readouterr()
        assert captured.out == "" and len(captured.err.strip().splitlines()) == 1


class TestBeatsCommand:
    def test_twelve_lead_beats(self, example_record_path: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
        out = tmp_path / "beats.npy"
        assert main(["beats", str(example_record_path), "--out", str(out)]) == 0
        beats = np.load(out)
        assert beats.shape == (11, 12, 500) and beats.dtype == np.float32
        assert "11 beats x 12 leads" in capsys.readouterr().out

    def test_two_lead_record_keeps_its_leads(self, shared_data: Path, tmp_path: Path) -> None:
        out = tmp_path / "mit.npy"
        assert main(["beats", str(shared_data / "mitdb" / "100.hea"), "--out", str(out), "--samples", "250",
                     "--mode", "window"]) == 0
        beats = np.load(out)
        assert beats.shape[1:] == (2, 250) and 2200 <= len(beats) <= 2300

    def test_out_must_be_npy(self, example_record_path: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["beats", str(example_record_path), "--out", str(tmp_path / "beats.csv")]) == 2
        assert ".npy" in capsys.readouterr().err
