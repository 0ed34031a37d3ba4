"""``cardioscreen analyze`` end to end on real files, in a subprocess like a user runs it."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cardioscreen.ensemble.reported import prediction_note
from cardioscreen.pipeline import Analyzer
from cardioscreen.report.descriptions import describe, ui_strings

REQUIRED_KEYS = {"record", "quality", "intervals", "predictions", "model", "rhythm", "interpretation"}
RHYTHM_KEYS = {"code", "name", "heart_rate_bpm", "episodes", "ectopy"}
STATEMENT_KEYS = {"code", "text", "source", "evidence"}


def _analyze(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cardioscreen.cli", "analyze", *map(str, args)],
        capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory, ptbxl_dir) -> Path:
    """Three real PTB-XL records and one corrupted copy of a header in a folder."""
    folder = tmp_path_factory.mktemp("batch")
    for hea in sorted((ptbxl_dir / "records500").rglob("*.hea"))[:3]:
        shutil.copy(hea, folder)
        shutil.copy(hea.with_suffix(".dat"), folder)
    broken = folder / "broken_hr.hea"
    broken.write_text("broken_hr 12 500 5000\nbroken_hr.dat 16 1000.0(0)/mV 16 0 -115 13047 0 I\n")
    return folder


class TestAnalyzeCli:
    def test_json_lines_for_each_record_and_failure_reported(self, batch_dir):
        proc = _analyze(batch_dir, "--json", "--jobs", "2")
        assert proc.returncode == 1, proc.stderr
        lines = [json.loads(line) for line in proc.stdout.splitlines()]
        assert len(lines) == 3
        for data in lines:
            assert set(data) >= REQUIRED_KEYS
            assert len(data["predictions"]) == 22
        assert "broken_hr" in proc.stderr and "Traceback" not in proc.stderr
        assert "1 of 4 files failed" in proc.stderr

    def test_table_and_html_report(self, example_record_path, tmp_path):
        out = tmp_path / "report.html"
        proc = _analyze(example_record_path, "--report", out, "--lang", "ru")
        assert proc.returncode == 0, proc.stderr
        # class names in the table and the report's text are Russian, as asked
        assert re.search(rf"^  NORM +seed17 +{re.escape(describe('NORM', 'ru')[0][:48])} ", proc.stdout, re.M)
        document = out.read_text(encoding="utf-8")
        assert "<img" in document and "CLBBB" not in proc.stderr
        assert html.escape(ui_strings("ru")["notice"]) in document
        assert html.escape(ui_strings("en")["notice"]) not in document

    def test_pdf_report(self, example_record_path, tmp_path):
        out = tmp_path / "report.pdf"
        proc = _analyze(example_record_path, "--report", out)
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes().startswith(b"%PDF")

    def test_folder_skips_and_counts_files_that_are_not_ecgs(self, shared_data, tmp_path):
        """LUDB as published: records beside ludb.csv (a table of patients), ANNOTATORS, RECORDS and annotations."""
        ludb = shared_data / "ludb"
        for name in ("1.hea", "1.dat", "101.hea", "101.dat", "1.i", "1.ii", "ludb.csv", "ANNOTATORS", "RECORDS"):
            shutil.copy(ludb / name, tmp_path)
        proc = _analyze(tmp_path, "--json")
        assert proc.returncode == 0, proc.stderr
        assert sorted(json.loads(line)["record"] for line in proc.stdout.splitlines()) == ["1", "101"]
        assert "skipped 5 files that are not ECG records (1.i, 1.ii, ANNOTATORS, ...)" in proc.stderr
        assert "error" not in proc.stderr

    def test_unknown_file_is_one_line_error(self, tmp_path):
        bad = tmp_path / "notes.txt"
        bad.write_text("not an ECG\n")
        proc = _analyze(bad)
        assert proc.returncode != 0
        assert "Traceback" not in proc.stderr and "notes.txt" in proc.stderr


@pytest.fixture(scope="module")
def af_and_sinus(ptbxl_dir) -> list[Path]:
    """PTB-XL 321 (atrial fibrillation, 102/min) and PTB-XL 1 (normal ECG, sinus rhythm 64/min)."""
    return [ptbxl_dir / "records500" / "00000" / f"{n}_hr.hea" for n in ("00321", "00001")]


class TestInterpretationOutput:
    def test_json_contract(self, af_and_sinus):
        proc = _analyze(*af_and_sinus, "--json", "--jobs", "1")
        assert proc.returncode == 0, proc.stderr
        af, sinus = (json.loads(line) for line in proc.stdout.splitlines())
        for data in (af, sinus):
            rhythm, interpretation = data["rhythm"], data["interpretation"]
            assert set(rhythm) >= RHYTHM_KEYS and set(rhythm["ectopy"]) >= {"pvc", "pac"}
            assert all(set(e) == {"code", "start_s", "end_s"} for e in rhythm["episodes"]) and rhythm["episodes"]
            assert set(interpretation) >= {"summary", "statements"}
            for statement in interpretation["statements"]:
                assert set(statement) >= STATEMENT_KEYS
                assert statement["source"] in ("measurement", "model", "both")
            assert interpretation["statements"][0]["code"] == rhythm["code"]  # rhythm first
        assert af["rhythm"]["code"] == "AFIB" and af["rhythm"]["name"] == "Atrial fibrillation"
        assert af["interpretation"]["summary"].startswith("Atrial fibrillation")
        assert sinus["rhythm"]["code"] == "SR" and sinus["interpretation"]["summary"].startswith("Sinus rhythm")
        assert "translations" not in sinus  # the CLI words its output in --lang only

    def test_table_in_russian(self, af_and_sinus):
        proc = _analyze(af_and_sinus[0], "--lang", "ru")
        assert proc.returncode == 0, proc.stderr
        assert re.search(r"^  rhythm: AFIB \(Фибрилляция предсердий\), 10\d/min$", proc.stdout, re.M), proc.stdout
        assert re.search(r"^  summary: Фибрилляция предсердий 10\d/мин\. ", proc.stdout, re.M)
        assert re.search(r"^    1\. Фибрилляция предсердий 10\d/мин \[both\]: ЧСС 10\d/мин; ", proc.stdout, re.M)


@pytest.fixture(scope="module")
def honest_dir(tmp_path_factory, ptbxl_dir) -> Path:
    """PTB-XL 50 as published, and PTB-XL 8 with V5 and V6 at their baseline (flat at 0 mV) in its .dat."""
    folder = tmp_path_factory.mktemp("honest")
    source = ptbxl_dir / "records500" / "00000"
    for name in ("00050_hr", "00008_hr"):
        shutil.copy(source / f"{name}.hea", folder)
        shutil.copy(source / f"{name}.dat", folder)
    header = (folder / "00008_hr.hea").read_text().splitlines()
    samples = np.fromfile(folder / "00008_hr.dat", dtype="<i2").reshape(-1, 12)
    for lead in ("V5", "V6"):
        column = [line.split()[-1] for line in header[1:13]].index(lead)
        samples[:, column] = int(header[1 + column].split()[4])
    samples.astype("<i2").tofile(folder / "00008_hr.dat")
    return folder


ROW = re.compile(r"^  (\S+) +(seed17|superdiagnostic) +.{48} +(\S+)(?:  (.*))?$", re.M)
"""A row of the predictions table: code, task, probability (or a dash), flag and caveat."""


class TestHonestClasses:
    @pytest.mark.parametrize("lang", ["en", "ru"])
    def test_table_shows_caveats(self, honest_dir, lang):
        """Classes the shipped model does not assess: a dash and 'not assessed by this model', never YES; every flag
        of the record analysed without V5 and V6 names them."""
        not_assessed = [c["code"] for c in Analyzer.load().model_info["not_assessed"]]
        assert not_assessed
        proc = _analyze(honest_dir, "--lang", lang, "--jobs", "1")
        assert proc.returncode == 0, proc.stderr
        tables = dict(zip(re.findall(r"^(\S+): quality", proc.stdout, re.M),
                          re.split(r"^\S+: quality.*$", proc.stdout, flags=re.M)[1:], strict=True))
        words, left_out = prediction_note(False, False, (), lang), prediction_note(True, True, ("V5", "V6"), lang)
        for record, table in tables.items():
            rows = ROW.findall(table)
            assert len(rows) == 22, table
            for code, _, probability, flag in rows:
                if code in not_assessed:
                    assert (probability, flag) == ("-", words)
                elif record == "00008_hr" and flag.startswith("YES"):
                    assert flag == f"YES {left_out}"
                else:
                    assert float(probability) > 0 and flag in ("", "YES")
            assert [r[0] for r in rows[-len(not_assessed):]] == not_assessed  # last
        assert any(flag.startswith("YES ") for *_, flag in
                   ROW.findall(tables["00008_hr"]))
