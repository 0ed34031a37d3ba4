"""Issue 15, end to end on real records: 40 PTB-XL records uploaded by their patients, concluded through the API by
a doctor whose verdicts follow their PTB-XL labels, exported, a fine-tuning run of one epoch from the shipped model,
``models compare`` and ``promote``, a new upload analysed by the promoted version (its result names it), and
``rollback`` restoring the previous one."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cardioscreen.cli import main
from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.models.bundle import content_hash, default_bundle_path, load_bundle
from cardioscreen.web.main import create_app
from cardioscreen.web.settings import WebSettings

from .conftest import add_user
from .support import wfdb_files
from .test_web_api import _token

N_RECORDS = 40


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    """The app with its default analysis, which follows the model registry of its data folder (SQLite; the registry
    on PostgreSQL is tests/web/test_web_registry.py)."""
    built = create_app(WebSettings(data_dir=tmp_path / "app", session_secret=secrets.token_urlsafe(40)))
    yield built
    built.state.sandbox.close()


def _truth(dataset: PTBXL) -> list[set[str]]:
    """Per record, the model's classes its PTB-XL statements make present (seed17 and superclasses)."""
    out: list[set[str]] = [set() for _ in range(len(dataset))]
    for task in ("seed17", "superdiagnostic"):
        labels = dataset.labels(task)
        for row, present in enumerate(labels.y > 0.5):
            out[row] |= {code for code, on in zip(labels.classes, present, strict=True) if on}
    return out


def test_review_loop(app: FastAPI, ptbxl_dir: Path, shared_data: Path, tmp_path: Path,
                     capsys: pytest.CaptureFixture[str]) -> None:
    ptbxl = PTBXL.load(ptbxl_dir)
    chosen = ptbxl.subset(~ptbxl.meta["patient_id"].duplicated().to_numpy()).in_folds(range(1, 9))
    chosen = chosen.subset([i < N_RECORDS for i in range(len(chosen))])
    client = TestClient(app)
    add_user(app, "doc", "doctor")
    doctor = _token(client, "doc")
    truth = _truth(chosen)
    confirmed = rejected = added_total = 0
    for k, ecg_id in enumerate(chosen.ecg_ids):
        add_user(app, f"patient{k}", "patient")
        header = chosen.record_path(int(ecg_id), 500).with_suffix(".hea")
        response = client.post("/api/studies", files=wfdb_files(header), headers=_token(client, f"patient{k}"))
        assert response.status_code == 201, response.text
        study = response.json()
        predictions = study["result"]["predictions"]
        verdicts = {code: code in truth[k] for code in study["flagged_codes"]}
        added = sorted({p["code"] for p in predictions if not p["flagged"]} & truth[k])
        concluded = client.post(f"/api/studies/{study['id']}/conclusion", headers=doctor,
                                json={"text": "Reviewed against the PTB-XL labels.", "verdicts": verdicts,
                                      "added": added})
        assert concluded.status_code == 201, concluded.text
        confirmed += sum(verdicts.values())
        rejected += len(verdicts) - sum(verdicts.values())
        added_total += len(added)
    assert confirmed and rejected and added_total  # the doctor agreed, disagreed and added

    data_dir, export = app.state.settings.data_dir, tmp_path / "export"
    assert main(["reviews", "export", "--data-dir", str(data_dir), "--out", str(export)]) == 0
    assert f"exported {N_RECORDS} reviewed records of {N_RECORDS} patients" in capsys.readouterr().out
    exported = PTBXL.load(export)
    seed = exported.labels("seed17")
    assert seed.mask.sum() == confirmed + rejected + added_total - _superclass_verdicts(exported)
    assert not seed.mask.all()  # unreviewed classes are unknown, not negative

    shipped = content_hash(default_bundle_path())
    tuned = tmp_path / "tuned"
    assert main(["train", "--data", str(shared_data / "ptbxl-z100"), "--extra-data", str(export), "--out",
                 str(tuned), "--init-from", str(default_bundle_path()), "--epochs", "1", "--lr", "1e-4",
                 "--max-records", str(N_RECORDS), "--val-folds", "9,10", "--test-folds", "",
                 "--cache", str(tmp_path / "cache")]) == 0
    training = load_bundle(tuned, lazy_model=True).manifest["training"]
    assert training["init_from"]["model_version"] == shipped and training["epochs_run"] == 1
    assert str(export) in training["data"]

    cli = ["--data-dir", str(data_dir)]
    assert main(["models", "add", str(tuned), *cli, "--note", "40 reviews, one epoch"]) == 0
    version = content_hash(tuned)
    reference = ["--folds", "9", "--task", "seed17", "--n-boot", "50"]
    capsys.readouterr()
    assert main(["models", "compare", shipped, version, *cli, "--data", str(shared_data / "ptbxl-z100"),
                 *reference]) == 0
    compared = capsys.readouterr().out
    assert "paired bootstrap, 90%" in compared and "IMI" in compared and f"B = {tuned}" not in compared
    # one epoch at a small learning rate from the shipped weights: within 0.05 macro-AUC of it on the reference
    assert main(["models", "promote", version, *cli, "--reference", str(shared_data / "ptbxl-z100"), *reference,
                 "--margin", "0.05"]) == 0

    add_user(app, "newcomer", "patient")
    newcomer = _token(client, "newcomer")
    header = ptbxl.record_path(int(ptbxl.in_folds([9]).ecg_ids[0]), 500).with_suffix(".hea")
    fresh = client.post("/api/studies", files=wfdb_files(header), headers=newcomer).json()
    assert fresh["model_version"] == version == fresh["result"]["model"]["model_version"]
    assert fresh["result"]["model"]["bundle"] == version  # the registry's folder of that version

    assert main(["models", "rollback", *cli]) == 0
    after = client.post("/api/studies", files=wfdb_files(header), headers=newcomer).json()
    assert after["model_version"] == shipped
    first = client.get("/api/studies", headers=newcomer).json()
    assert [s["id"] for s in first] == [after["id"], fresh["id"]]


def _superclass_verdicts(dataset: PTBXL) -> int:
    """Verdicts on superclasses that are not seed17 classes (MI, STTC, CD, HYP: not columns of seed17)."""
    seed = set(dataset.labels("seed17").classes)
    return sum(code not in seed for verdicts in dataset.meta["review_verdicts"] for code in verdicts)
