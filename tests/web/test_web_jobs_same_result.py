"""Issue 16, part 4: the batch path and both web paths (a queue worker, the web process itself) run the same Analyzer
and give identical results for a record: real records of eight formats, each uploaded to the web app and analysed
by ``cardioscreen batch``'s per-record job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cardioscreen.archive.job import RowJob
from cardioscreen.io.wfdb_format import signal_file_names
from cardioscreen.pipeline import AnalyzerConfig

from .conftest import AppFactory
from .jobs_support import serving, wait_done
from .support import Browser


@pytest.fixture(scope="module")
def records(shared_data: Path) -> list[Path]:
    formats = shared_data / "formats"
    return [shared_data / "ptbxl" / "records500" / "00000" / "00010_hr.hea",  # WFDB format 16
            shared_data / "ptbxl" / "records500" / "01000" / "01001_hr.hea",  # WFDB FLAC (format 516)
            shared_data / "challenge" / "georgia" / "E00002.hea",  # PhysioNet/CinC .mat
            formats / "dicom" / "ecgtoolkit_example.dcm", formats / "scp-ecg" / "ecgtoolkit_example.scp",
            formats / "hl7-aecg" / "hl7_example_aecg.xml", formats / "ge-muse" / "musephi_muse_ecg1.xml",
            formats / "philips-sierra" / "sierra_1.04_ad4d3d80-d165.xml"]


@pytest.fixture(scope="module")
def batch_results(records: list[Path]) -> dict[Path, dict]:
    """What ``cardioscreen batch`` stores for each record (its ``result_json`` column), from its worker's job."""
    job = RowJob(None, AnalyzerConfig())
    return {path: json.loads(job(path)["result_json"]) for path in records}


def _files(path: Path) -> list[tuple[str, tuple[str, bytes]]]:
    parts = [path]
    if path.suffix == ".hea":
        parts += [path.parent / name for name in signal_file_names(path.read_bytes())]
    return [("files", (p.name, p.read_bytes())) for p in parts]


def _web_results(app, browser_for, records: list[Path], queued: bool, analyze, explain) -> dict[Path, dict]:
    browser: Browser = browser_for(app)
    assert browser.register(f"same-{'queued' if queued else 'inline'}").status_code == 200
    ids = {}
    for path in records:
        page = browser.upload(_files(path))
        assert page.status_code == 200, page.text[:300]
        ids[path] = int(page.url.path.rsplit("/", 1)[1])
    if queued:
        with serving(app, analyze, explain, size=2):
            for study_id in ids.values():
                wait_done(browser, study_id)
    results = {path: browser.client.get(f"/api/studies/{i}").json()["result"] for path, i in ids.items()}
    # the web app words the rhythm and interpretation in Russian too, for its Russian pages; the rest is the same
    return {path: {k: v for k, v in result.items() if k != "translations"} for path, result in results.items()}


@pytest.mark.parametrize("backend", ["queue", "inline"])
def test_the_web_result_of_a_record_equals_the_batch_result(backend: str, make_app: AppFactory, browser_for,
                                                            records, batch_results, analyze, explain) -> None:
    queued = backend == "queue"
    app = make_app("postgresql", job_queue=True) if queued else make_app("sqlite")
    web = _web_results(app, browser_for, records, queued, analyze, explain)
    assert {path.name: result["record"] for path, result in web.items()} == {
        path.name: result["record"] for path, result in batch_results.items()}
    for path in records:
        assert web[path] == batch_results[path], path.name
    assert sum(bool(r["predictions"]) for r in web.values()) >= 6  # most of them analysed, not refused
