"""``cardioscreen batch`` end to end: 40 real records of mixed formats on a local 2-worker Dask cluster, killed
half-way and resumed; the Parquet rows equal ``cardioscreen analyze --json`` on the same files."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from cardioscreen.archive.discovery import content_sha256, find_records
from cardioscreen.archive.rows import INTERVALS

from .support import CLI, N_RECORDS, KilledAndResumed, batch

PINNED = ["record", "path", "content_sha256", "model_version", "quality", "rhythm", "summary",
          "p_seed17_NORM", "flag_seed17_NORM", "p_superdiagnostic_MI", "flag_superdiagnostic_MI"]


@pytest.fixture(scope="module")
def rows(killed_and_resumed: KilledAndResumed) -> pd.DataFrame:
    versions = list((killed_and_resumed.out / "records").iterdir())
    assert len(versions) == 1
    return pd.read_parquet(versions[0])


@pytest.fixture(scope="module")
def analyzed(mixed_archive: Path) -> dict[str, dict]:
    """``cardioscreen analyze ARCHIVE --json --jobs 2``, by path (it prints in the order the files are found)."""
    proc = subprocess.run([*CLI, "analyze", str(mixed_archive), "--json", "--jobs", "2"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    files = find_records([mixed_archive]).files
    assert len(lines) == len(files) == N_RECORDS
    return {str(path): json.loads(line) for path, line in zip(files, lines, strict=True)}


class TestKilledAndResumed:
    def test_first_run_was_killed_half_way(self, killed_and_resumed):
        assert N_RECORDS // 2 <= killed_and_resumed.rows_at_kill < N_RECORDS

    def test_rerun_analyses_only_what_was_not_stored(self, killed_and_resumed):
        rerun = killed_and_resumed.rerun
        assert rerun.returncode == 0, rerun.stderr
        done = N_RECORDS - killed_and_resumed.rows_at_kill
        assert (f"{N_RECORDS} records found (2 files skipped: not ECG records), {killed_and_resumed.rows_at_kill} "
                f"already in") in rerun.stderr
        assert re.search(rf"\b{done} analysed, 0 failed", rerun.stderr), rerun.stderr

    def test_parts_of_the_first_run_kept_as_they_were(self, killed_and_resumed):
        for part, mtime in killed_and_resumed.parts_at_kill.items():
            assert part.stat().st_mtime == mtime

    def test_every_record_once(self, rows, mixed_archive):
        assert len(rows) == N_RECORDS
        assert rows["path"].is_unique and rows["content_sha256"].is_unique
        assert set(rows["path"]) == {str(p) for p in find_records([mixed_archive]).files}
        assert all(content_sha256(Path(path)) == sha for path, sha in zip(rows["path"], rows["content_sha256"],
                                                                           strict=True))

    def test_third_run_analyses_nothing(self, killed_and_resumed, mixed_archive):
        proc = batch(mixed_archive, "--out", killed_and_resumed.out, "--quiet")
        assert proc.returncode == 0, proc.stderr
        assert f"{N_RECORDS} already in" in proc.stderr and " 0 analysed" in proc.stderr


class TestSameAsAnalyze:
    def test_pinned_columns(self, rows):
        assert set(PINNED) <= set(rows.columns)

    def test_result_equals_analyze_json(self, rows, analyzed):
        for row in rows.itertuples():
            assert json.loads(row.result_json) == analyzed[row.path], row.path

    def test_columns_equal_analyze_json(self, rows, analyzed):
        for row in rows.to_dict("records"):
            expected = analyzed[row["path"]]
            assert row["record"] == expected["record"]
            assert row["quality"] == expected["quality"]["verdict"]
            assert row["summary"] == expected["interpretation"]["summary"]
            assert row["rhythm"] == (expected["rhythm"] or {}).get("code")
            assert row["model_version"] == expected["model"]["model_version"]
            for name in INTERVALS:
                value = (expected["intervals"] or {}).get(name)
                assert (row[name] == value) if value is not None else pd.isna(row[name]), (row["path"], name)
            assert expected["predictions"], row["path"]
            for p in expected["predictions"]:
                assert row[f"p_{p['task']}_{p['code']}"] == p["probability"]
                assert row[f"flag_{p['task']}_{p['code']}"] == p["flagged"]

    def test_formats_all_present(self, rows):
        suffixes = {Path(p).suffix for p in rows["path"]}
        assert suffixes == {".hea", ".dcm", ".scp", ".xml"}
        assert rows["sex"].notna().sum() >= 10  # the CinC headers and the clinical files store it


class TestErrors:
    def test_missing_source_is_one_line(self, tmp_path):
        proc = batch(tmp_path / "nowhere", "--out", tmp_path / "out")
        assert proc.returncode == 2
        assert proc.stderr.strip().splitlines() == [f"cardioscreen batch: error: {tmp_path / 'nowhere'}: no such file "
                                                    "or folder"]

    def test_other_settings_refused(self, killed_and_resumed, mixed_archive):
        proc = batch(mixed_archive, "--out", killed_and_resumed.out, "--powerline", "60", "--quiet")
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "other settings (powerline_hz 50.0 -> 60.0)" in proc.stderr
