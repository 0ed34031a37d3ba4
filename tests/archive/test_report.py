"""``cardioscreen batch-report`` on the mixed archive's results, and the results folder's bookkeeping."""

from __future__ import annotations

import json
import subprocess

import pandas as pd
import pyarrow as pa
import pytest

from cardioscreen.archive.rows import FAILURES
from cardioscreen.archive.store import FAILED, ResultStore
from cardioscreen.errors import CardioScreenError

from .support import CLI, N_RECORDS


def _report(*args) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "batch-report", *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report(killed_and_resumed, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    proc = _report(killed_and_resumed.out, "--out", out)
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(r) for r in pd.read_parquet(next((killed_and_resumed.out / "records").iterdir()))
               ["result_json"]]
    return out, results


class TestBatchReport:
    def test_files(self, report):
        out, _ = report
        for name in ("index.html", "findings.png", "prevalence.png", "findings.csv", "prevalence.csv", "af.csv",
                     "long_qtc.csv", "stemi.csv", "refused.csv", "failures.csv"):
            assert (out / name).stat().st_size > 0, name
        assert (out / "findings.png").read_bytes().startswith(b"\x89PNG")
        assert f"{N_RECORDS} records analysed" in (out / "index.html").read_text()

    def test_counts_per_flag_equal_the_results(self, report):
        out, results = report
        table = pd.read_csv(out / "findings.csv")
        flags = table[table["kind"] == "model flag"].set_index("finding")["records"]
        for task, code in (("seed17", "NORM"), ("superdiagnostic", "MI"), ("seed17", "LAFB")):
            expected = sum(p["flagged"] for r in results for p in r["predictions"]
                           if (p["task"], p["code"]) == (task, code))
            assert flags[f"{task}_{code}"] == expected
        verdicts = table[table["kind"] == "quality"].set_index("finding")["records"]
        assert verdicts.sum() == N_RECORDS

    def test_lists_equal_the_results(self, report):
        out, results = report
        af = {r["record"] for r in results if (r["rhythm"] or {}).get("code") in ("AFIB", "AFLT")}
        long_qt = {r["record"] for r in results
                   if any(s["code"] == "LNGQT" for s in (r["interpretation"] or {}).get("statements", ()))}
        assert set(pd.read_csv(out / "af.csv", dtype=str)["record"].dropna()) == af
        assert set(pd.read_csv(out / "long_qtc.csv", dtype=str)["record"].dropna()) == long_qt
        assert af or long_qt  # the mixed archive has some of either: the lists are not trivially empty

    def test_prevalence_covers_every_analysed_record(self, report):
        out, results = report
        table = pd.read_csv(out / "prevalence.csv")
        norm = table[table["finding"] == "seed17_NORM"]
        assert norm["records"].sum() == sum(not r["refused"] for r in results)
        assert {"M", "F"} <= set(norm["sex"])

    def test_empty_folder_is_one_line_error(self, tmp_path):
        proc = _report(tmp_path, "--out", tmp_path / "out")
        assert proc.returncode == 2
        assert proc.stderr.strip() == f"cardioscreen batch-report: error: {tmp_path} holds no batch results"


class TestResultStore:
    def test_failures_repeated_on_rerun_only_where_they_would_change(self, tmp_path):
        store = ResultStore(tmp_path)
        failures = [{"path": f"/a/{stage}", "content_sha256": f"sha-{stage}", "model_version": "v1", "stage": stage,
                     "error": "x"} for stage in ("analysis", "worker")]
        failures.append({"path": "/a/gone", "content_sha256": None, "model_version": "v1", "stage": "read",
                         "error": "cannot read"})
        part = store.append(FAILED, "v1", pa.Table.from_pylist(failures, schema=FAILURES))
        assert part is not None and not list(tmp_path.rglob(".*.tmp"))
        assert store.done("v1") == {"sha-analysis"}
        assert store.done("v2") == set()

    def test_settings_kept_per_model_version(self, tmp_path):
        store = ResultStore(tmp_path)
        store.check_settings("v1", {"lang": "en"})
        store.check_settings("v1", {"lang": "en"})
        store.check_settings("v2", {"lang": "ru"})
        with pytest.raises(CardioScreenError, match="lang 'en' -> 'ru'"):
            store.check_settings("v1", {"lang": "ru"})
