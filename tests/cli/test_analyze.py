"""``cardioscreen analyze`` end to end on real files, in a subprocess like a user runs it."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cardioscreen.report.descriptions import describe, ui_strings

REQUIRED_KEYS = {"record", "quality", "intervals", "predictions", "model"}


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

    def test_unknown_file_is_one_line_error(self, tmp_path):
        bad = tmp_path / "notes.txt"
        bad.write_text("not an ECG\n")
        proc = _analyze(bad)
        assert proc.returncode != 0
        assert "Traceback" not in proc.stderr and "notes.txt" in proc.stderr
