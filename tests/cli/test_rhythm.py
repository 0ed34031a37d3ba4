"""``cardioscreen rhythm`` on real files: a 30-min 2-lead MIT-BIH strip, a 1-lead CPSC record, LUDB, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import wfdb

from cardioscreen.cli import main


def _annotated_af(path: Path) -> list[tuple[float, float]]:
    """AF / flutter stretches (s) of an MIT-BIH record from the rhythm aux notes of its ``.atr``."""
    ann = wfdb.rdann(str(path), "atr")
    changes = [(s / ann.fs, n.strip("\x00")) for s, n, sym in zip(ann.sample, ann.aux_note, ann.symbol, strict=True)
               if sym == "+"]
    return [(a, b) for (a, note), (b, _) in zip(changes, changes[1:] + [(1806.0, "")], strict=True)
            if note in ("(AFIB", "(AFL")]


def _overlap(a: list[tuple[float, float]], b: list[tuple[float, float]]) -> float:
    return sum(max(0.0, min(x1, y1) - max(x0, y0)) for x0, x1 in a for y0, y1 in b)


class TestRhythmCommand:
    def test_mitdb_two_lead_half_hour(self, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = shared_data / "mitdb" / "201"
        assert main(["rhythm", "--json", str(path.with_suffix(".hea"))]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["record"] == "201" and out["rhythm"]["duration_s"] == pytest.approx(1805.6, abs=0.1)
        ours = [(e["start_s"], e["end_s"]) for e in out["rhythm"]["episodes"] if e["code"] in ("AFIB", "AFLT")]
        reference = _annotated_af(path)
        overlap = _overlap(ours, reference)
        assert overlap > 0.8 * sum(b - a for a, b in reference)  # most annotated AF time is found ...
        assert overlap > 0.6 * sum(b - a for a, b in ours)  # ... and most of what is called AF is annotated AF
        assert out["rhythm"]["episodes"][0]["start_s"] == 0.0 and out["rhythm"]["code"] == "AFIB"

    def test_single_lead_record(self, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = shared_data / "cpsc2019" / "data" / "data_00014.mat"
        assert main(["rhythm", "--json", "--fs", "500", str(path)]) == 0
        rhythm = json.loads(capsys.readouterr().out)["rhythm"]
        assert rhythm["code"] == "SR" and rhythm["n_beats"] == 13
        assert rhythm["episodes"] == [{"code": "SR", "start_s": 0.0, "end_s": 10.0}]

    def test_table_in_russian(self, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["rhythm", "--lang", "ru", str(shared_data / "ludb" / "1.hea")]) == 0
        first, evidence = capsys.readouterr().out.splitlines()
        assert first.startswith("1.hea: SBRAD Синусовая брадикардия, 46/min")
        assert "зубец P перед 100 % QRS" in evidence

    def test_bad_file_one_error_line(self, shared_data: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
        bad = tmp_path / "bad.csv"
        bad.write_text("garbage\n")
        assert main(["rhythm", "--json", str(bad), str(shared_data / "ludb" / "1.hea")]) == 1
        captured = capsys.readouterr()
        assert captured.err.strip().splitlines() == [f"{bad}: error: bad.csv: column 'garbage' is not numeric"]
        assert json.loads(captured.out)["rhythm"]["code"] == "SBRAD"
