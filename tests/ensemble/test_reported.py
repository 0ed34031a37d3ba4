"""The shipped bundle's reported output on real records: ranking kept, unassessed classes never flagged, unusable
leads left out (or the record refused), and the array path of ``evaluate`` equal to the Analyzer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardioscreen.ensemble.reported import MAX_LEADS_LEFT_OUT, ReportedOutput
from cardioscreen.evaluation.evaluate import reported_scores
from cardioscreen.evaluation.sets import LabelledSet, load_labelled
from cardioscreen.io import read_ecg
from cardioscreen.models.bundle import default_bundle_path, load_bundle
from cardioscreen.pipeline import Analyzer
from cardioscreen.record import ECGRecord
from cardioscreen.training.metrics import class_aucs, macro_auc


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.load()


@pytest.fixture(scope="module")
def fold9(analyzer: Analyzer, shared_data: Path) -> dict[str, LabelledSet]:
    """Fold 9 (validation) of both folders, every task's records."""
    return {f"{folder}/{task}": load_labelled(shared_data / folder, analyzer.bundle, task, (9,))
            for folder in ("ptbxl", "ptbxl-z100") for task in ("seed17", "superdiagnostic")}


def _with_leads(record: ECGRecord, leads: tuple[str, ...], values: np.ndarray | float) -> ECGRecord:
    sig = record.signal.copy()
    sig[[list(record.leads).index(lead) for lead in leads]] = values
    return record.with_signal(sig)


class TestRankingKept:
    def test_calibration_keeps_the_auc_on_fold9(self, analyzer: Analyzer, fold9: dict[str, LabelledSet]) -> None:
        """The reported probabilities rank the fold-9 records as the bundle's default output does before its
        calibration (the calibrated network, or the stack), class by class, and none is shown as 0 % or 100 %."""
        from cardioscreen.ensemble.inputs import network_outputs

        bundle, output = analyzer.bundle, analyzer.output
        ensemble = output.ensemble
        assert ensemble is not None
        for task in bundle.tasks:
            cols = bundle.task_columns(task)
            parts = [fold9[f"{folder}/{task}"] for folder in ("ptbxl", "ptbxl-z100")]
            y, mask = np.vstack([p.y for p in parts]), np.vstack([p.mask for p in parts])
            x = np.concatenate([p.inputs() for p in parts if p.inputs is not None])
            assert len(y) >= 470
            network, embeddings = network_outputs(bundle, x)
            # z100 inputs and raw records alike: measurements unknown here (NaN) for an ensemble that takes them
            features = output.features(x, bundle.input_spec, None)
            uncalibrated = network
            if ensemble.defaults[task] == "ensemble":
                assert features is not None
                boost = ensemble.boosting.predict_proba(np.hstack([embeddings, features]))
                uncalibrated = ensemble.stacker.predict_proba([network, boost])
            reported = output.probabilities(network, embeddings, features)
            np.testing.assert_allclose(class_aucs(y, reported[:, cols], mask),
                                       class_aucs(y, uncalibrated[:, cols], mask), atol=5e-3)
            assert macro_auc(y, reported[:, cols], mask) == pytest.approx(
                macro_auc(y, uncalibrated[:, cols], mask), abs=5e-3)
            shown = np.round(reported, 3)
            assert np.mean((shown <= 0) | (shown >= 1)) < 0.01


def _bare_bundle(tmp_path: Path, without_positives: str) -> Path:
    """A copy of the shipped bundle without its ensemble whose manifest gives class ``without_positives`` no
    training positives (as a class whose labels a training set lacks)."""
    import json
    import shutil

    copy = tmp_path / "bare"
    shutil.copytree(default_bundle_path(), copy, ignore=shutil.ignore_patterns("ensemble"))
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest.pop("ensemble")
    codes = [label["code"] for label in manifest["labels"]]
    manifest["training"]["train_prevalence"][codes.index(without_positives)] = 0.0
    (copy / "manifest.json").write_text(json.dumps(manifest))
    return copy


class TestHonestClasses:
    def test_class_without_training_positives_is_never_flagged(self, ptbxl_dir: Path, tmp_path: Path) -> None:
        """ILMI, given no training positives: never flagged on the fold-9 ILMI records, though the threshold alone
        would flag some of them."""
        analyzer = Analyzer(load_bundle(_bare_bundle(tmp_path, "ILMI")))
        bundle = analyzer.bundle
        ilmi = [i for i, label in enumerate(bundle.labels) if label.code == "ILMI"][0]
        assessment = analyzer.output.assessment[ilmi]
        assert not assessment.assessed and assessment.train_positives == 0
        assert assessment.reason.startswith("0 training positives")
        assert {"code": "ILMI", "task": "seed17", "reason": assessment.reason} in analyzer.model_info["not_assessed"]
        labelled = load_labelled(ptbxl_dir, bundle, "seed17", (9,))
        rows = np.flatnonzero(labelled.y[:, list(bundle.task_columns("seed17")).index(ilmi)] > 0.5)
        assert labelled.read is not None and len(rows) >= 5
        above = 0
        for i in rows:
            prediction = analyzer.analyze(labelled.read(int(i))).predictions[ilmi]
            assert not prediction.flagged and not prediction.assessed
            assert prediction.note == "not assessed by this model"
            above += prediction.probability >= prediction.threshold
        assert above > 0  # the threshold alone would have flagged it: the assessment is what stops the flag

    def test_shipped_ensemble_names_what_it_cannot_assess(self, analyzer: Analyzer) -> None:
        """The shipped ensemble's own assessment: each class it does not assess has a stated reason (a validation
        AUC interval reaching below 0.6 or too few training positives) and is never flagged."""
        not_assessed = analyzer.model_info["not_assessed"]
        assert not_assessed and all(item["reason"] for item in not_assessed)
        for item in not_assessed:
            index = [i for i, lab in enumerate(analyzer.bundle.labels) if (lab.code, lab.task) == (item["code"],
                                                                                                 item["task"])][0]
            assessment = analyzer.output.assessment[index]
            assert not assessment.assessed
            assert assessment.train_positives < 20 or assessment.val_auc_ci[0] < 0.6

    def test_manifest_assessment_without_ensemble(self, tmp_path: Path) -> None:
        output = ReportedOutput.of(load_bundle(_bare_bundle(tmp_path, "ILMI"), lazy_model=True))
        assert output.ensemble is None and output.name == "raw network"
        not_assessed = {c.code for c in output.assessment if not c.assessed}
        assert "ILMI" in not_assessed and "NORM" not in not_assessed
        probs = np.array([[0.0, 1.0] * 11])
        assert output.probabilities(probs, np.zeros((1, 0))).tolist() == [[0.001, 0.999] * 11]


class TestUnusableLeads:
    def test_three_flat_leads_are_refused(self, analyzer: Analyzer, example_record_path: Path) -> None:
        record = _with_leads(read_ecg(example_record_path), ("V1", "V2", "V3"), 0.0)
        result = analyzer.analyze(record)
        assert result.quality["verdict"] == "warn" and "flat line: V1, V2, V3" in result.quality["reasons"]
        assert result.refused and result.predictions == ()
        assert result.refusal is not None and "V1, V2, V3" in result.refusal and "10 of its 12 leads" in result.refusal
        assert MAX_LEADS_LEFT_OUT == 2

    def test_two_flat_leads_are_left_out_not_fed_as_signal(self, analyzer: Analyzer,
                                                            example_record_path: Path) -> None:
        """Two leads flat with a trace of amplifier noise (which a per-lead z-score would blow up to full-size
        'signal') give exactly the probabilities of the same leads at 0, and unlike the record itself."""
        record = read_ecg(example_record_path)
        noise = 0.002 * np.random.default_rng(0).standard_normal((2, record.n_samples))
        flat = analyzer.analyze(_with_leads(record, ("V2", "V4"), noise))
        zero = analyzer.analyze(_with_leads(record, ("V2", "V4"), 0.0))
        intact = analyzer.analyze(record)
        assert not flat.refused and flat.quality["verdict"] == "warn"
        assert flat.quality["per_lead"]["V2"] == ["flat"] and flat.quality["per_lead"]["V4"] == ["flat"]
        p_flat = np.array([p.probability for p in flat.predictions])
        p_zero = np.array([p.probability for p in zero.predictions])
        p_intact = np.array([p.probability for p in intact.predictions])
        np.testing.assert_allclose(p_flat, p_zero, atol=1e-6)
        assert np.abs(p_flat - p_intact).max() > 1e-3
        assert flat.flagged and all("V2, V4" in p.note for p in flat.flagged)
        assert all(p.note == "" for p in intact.flagged)


class TestEvaluatePath:
    def test_array_path_equals_the_analyzer(self, analyzer: Analyzer, fold9: dict[str, LabelledSet],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
        """``evaluate`` scores ptbxl-z100 through the Analyzer's ReportedOutput on network inputs (no millivolts, so
        no measurements); on raw PTB-XL records that path gives what the Analyzer itself reports, record by record,
        wherever the output does not take the measurements (the calibrated network)."""
        assert analyzer.ensemble is not None
        monkeypatch.setattr(analyzer.ensemble, "defaults", dict.fromkeys(analyzer.ensemble.defaults, "network"))
        labelled = fold9["ptbxl/seed17"]
        rows = np.arange(0, 80, 10)
        part = labelled.take(rows)
        arrays = LabelledSet(part.layout, part.ids, part.sources, part.y, part.mask, None, part.inputs)
        records = LabelledSet(part.layout, part.ids, part.sources, part.y, part.mask, part.read, None)
        via_arrays, _ = reported_scores(analyzer, arrays)
        via_analyzer, refused = reported_scores(analyzer, records)
        assert refused == [] and np.isfinite(via_analyzer).all()
        np.testing.assert_allclose(via_arrays, via_analyzer, atol=2e-3)
