"""``cardioscreen intervals`` on real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cardioscreen.cli import main


class TestIntervalsCommand:
    def test_json_one_object_per_file(
        self, shared_data: Path, example_record_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        af = shared_data / "ludb" / "51.hea"
        assert main(["intervals", "--json", str(example_record_path), str(af)]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert len(lines) == 2
        first, second = (json.loads(line) for line in lines)
        for key in (
            "hr_bpm",
            "p_ms",
            "pr_ms",
            "qrs_ms",
            "qt_ms",
            "qtc_bazett_ms",
            "qtc_fridericia_ms",
            "qrs_axis_deg",
            "n_beats",
        ):
            assert key in first and key in second
        assert first["file"] == str(example_record_path)
        assert isinstance(first["pr_ms"], float) and 80 < first["pr_ms"] < 300
        assert second["pr_ms"] is None and "pr_ms" in second["reasons"]

    def test_table(self, example_record_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["intervals", str(example_record_path)]) == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0].split()[:4] == ["file", "HR", "bpm", "P"]
        assert out[1].startswith(example_record_path.name)

    def test_bad_file_is_one_error_line(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        bad = tmp_path / "empty.csv"
        bad.write_text("")
        assert main(["intervals", str(bad)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("cardioscreen intervals: error:")
