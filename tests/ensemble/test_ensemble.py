"""End to end on real PTB-XL records: a bundle gets an ensemble (with the clinical measurements of the raw
records among its inputs) that is saved, loaded and predicts; each task's default output follows its own paired
interval."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from cardioscreen.ensemble.measurements import measurement_matrix, measurement_names
from cardioscreen.ensemble.persist import EnsembleModel, load_ensemble, save_ensemble
from cardioscreen.ensemble.train import EnsembleConfig, default_of, fit_ensemble_on
from cardioscreen.models.bundle import InputSpec, load_bundle, save_bundle
from cardioscreen.models.registry import create_model
from cardioscreen.training.data import TaskData, load_training_data

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
CONFIG = EnsembleConfig(n_models=2, iterations=20, n_boot=50, n_splits=3)


@pytest.fixture(scope="module")
def data(ptbxl_dir: Path, shared_data: Path) -> TaskData:
    return load_training_data(ptbxl_dir, ("seed17", "superdiagnostic"), extra_dirs=(shared_data / "ptbxl-z100",),
                              max_records=20)


@pytest.fixture(scope="module")
def bundle_dir(data: TaskData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bundle around an untrained small ``se_ecgnet`` (the ensemble stage does not care how it was trained)."""
    torch.manual_seed(0)
    model = create_model("se_ecgnet", num_classes=len(data.labels), width=2, seq_width=8).eval()
    path = tmp_path_factory.mktemp("bundle") / "tiny"
    spec = InputSpec(fs=100, samples=1000, recipe="z100", leads=LEADS)
    save_bundle(path, model, model_config={"name": "se_ecgnet", "kwargs": {"num_classes": len(data.labels),
                                                                            "width": 2, "seq_width": 8}},
                labels=data.labels, thresholds=np.full(len(data.labels), 0.5), input_spec=spec,
                training_config={}, metrics={})
    return path


@pytest.fixture(scope="module")
def measurements(data: TaskData, ptbxl_dir: Path, shared_data: Path) -> np.ndarray:
    """The records' measurement rows (PTB-XL: measured on the raw mV; ptbxl-z100: NaN)."""
    return measurement_matrix(data, (ptbxl_dir, shared_data / "ptbxl-z100"))


@pytest.fixture(scope="module")
def model(data: TaskData, bundle_dir: Path, measurements: np.ndarray) -> EnsembleModel:
    """The ensemble of the tiny bundle, fitted once, with the measurements."""
    return fit_ensemble_on(load_bundle(bundle_dir), data, CONFIG, measurements)


class TestEnsembleEndToEnd:
    def test_fit_save_load_predict(self, data: TaskData, bundle_dir: Path, model: EnsembleModel,
                                   measurements: np.ndarray) -> None:
        from cardioscreen.ensemble.inputs import network_outputs, record_feature_matrix

        bundle = load_bundle(bundle_dir)
        report = model.report
        assert set(report["tasks"]) == {"seed17", "superdiagnostic"}
        sup = report["tasks"]["superdiagnostic"]
        for key in ("ece_network_raw", "ece_network_calibrated", "ece_ensemble_raw", "ece_ensemble_calibrated"):
            assert 0 <= sup[key] <= 1
        low, high = sup["ensemble"]["macro_auc_ci"]
        assert low <= sup["ensemble"]["macro_auc"] <= high
        # per task, the stack is the default exactly when the paired interval of its cross-fitted gain is above 0
        for task, fig in report["tasks"].items():
            better = fig["difference_ci"][0] > 0
            assert fig["default"] == model.defaults[task] == default_of(fig) == ("ensemble" if better else "network")
            assert set(fig["per_class"]) == {label.code for label in bundle.labels if label.task == task}
        assert report["default"] == model.default
        assert model.thresholds["ensemble"].shape == (22,)
        # 20 training records per folder: no class has 20 training positives, so none is assessed
        assert not any(c.assessed for c in model.assessment_for()) and len(report["not_assessed"]) == 22
        reported = sup["reported"]
        assert reported["exact_01_share"] == 0
        if model.defaults["superdiagnostic"] == "network":  # strictly increasing maps: the ranking is the network's
            assert reported["reported_macro_auc"] == pytest.approx(reported["network_macro_auc"], abs=5e-3)

        save_ensemble(model, bundle_dir)
        assert json.loads((bundle_dir / "manifest.json").read_text())["ensemble"] == "ensemble"
        load_bundle(bundle_dir)
        loaded = load_ensemble(bundle_dir)
        assert loaded is not None and loaded.defaults == model.defaults
        assert loaded.assessment == model.assessment and loaded.measurement_names == model.measurement_names

        val = data.in_split("val")
        meas = measurements[data.split == "val"][:4]
        probs, emb = network_outputs(bundle, val.x[:4])
        feats, names = record_feature_matrix(val.x[:4], 100, LEADS)
        assert names == model.feature_names and emb.shape[1] == model.embedding_dim
        for which in ("network", "ensemble", None):
            out = loaded.predict(probs, emb, loaded.hand_made(feats, meas), which)
            np.testing.assert_allclose(out, model.predict(probs, emb, model.hand_made(feats, meas), which))
            assert out.shape == (4, 22) and ((out >= 0) & (out <= 1)).all()
            np.testing.assert_allclose(loaded.predict_records(bundle, val.x[:4], which, meas), out)
            assert loaded.thresholds_for(which).shape == (22,)

    def test_network_probabilities_match_inference(self, data: TaskData, bundle_dir: Path) -> None:
        from cardioscreen.ensemble.inputs import network_outputs
        from cardioscreen.training.inference import predict_inputs

        bundle = load_bundle(bundle_dir)
        x = data.in_split("val").x[:3]
        np.testing.assert_allclose(network_outputs(bundle, x)[0], predict_inputs(bundle, x), rtol=1e-5, atol=1e-6)

    def test_bundle_without_ensemble(self, bundle_dir: Path, tmp_path: Path) -> None:
        manifest = json.loads((bundle_dir / "manifest.json").read_text())
        manifest.pop("ensemble", None)
        (tmp_path / "manifest.json").write_text(json.dumps(manifest))
        assert load_ensemble(tmp_path) is None

    def test_ensemble_of_before_assessment_is_refused_by_name(self, bundle_dir: Path, model: EnsembleModel,
                                                              tmp_path: Path) -> None:
        import shutil

        from cardioscreen.errors import CardioScreenError

        copy = tmp_path / "old"
        shutil.copytree(bundle_dir, copy)
        save_ensemble(model, copy)
        description = copy / "ensemble" / "ensemble.json"
        data = json.loads(description.read_text())
        data.pop("assessment")
        description.write_text(json.dumps(data))
        with pytest.raises(CardioScreenError, match="train-ensemble"):
            load_ensemble(copy)


class TestMeasurementsInTheStack:
    """The clinical measurements reach the stack, the Analyzer gives it the training row, NaN rows work."""

    def test_named_measurement_columns_are_stack_inputs(self, data: TaskData, model: EnsembleModel,
                                                        measurements: np.ndarray) -> None:
        names = measurement_names()
        assert model.measurement_names == names and len(names) == 13 + 171
        for column in ("meas_pr_ms", "meas_qrs_ms", "meas_qtc_bazett_ms", "meas_qrs_axis_deg", "meas_V1_r_mv",
                       "meas_V5_r_mv", "meas_V1_s_mv", "meas_sokolow_lyon_mv", "meas_cornell_mv", "meas_V2_st60_mv",
                       "meas_III_q_ms"):
            assert column in names
        first = model.embedding_dim + len(model.feature_names)
        assert model.boosting.n_features_in_ == first + len(names)
        # the boosting splits on measurement columns
        split_on = np.concatenate([s[f.features.ravel()] for forests in model.boosting.forests_ if forests
                                   for f, s in zip(forests, model.boosting.subsets_, strict=True)])
        assert (split_on >= first).any()
        # PTB-XL rows are measured in mV: PR and Sokolow-Lyon in physiological ranges for most records
        raw = measurements[data.source == "ptbxl"]
        pr, sl = raw[:, names.index("meas_pr_ms")], raw[:, names.index("meas_sokolow_lyon_mv")]
        assert np.isfinite(sl).mean() > 0.9 and 0.5 < np.nanmedian(sl) < 5.0
        assert np.isfinite(pr).mean() > 0.6 and 120 < np.nanmedian(pr) < 220

    def test_measurements_move_the_stack(self, data: TaskData, bundle_dir: Path, model: EnsembleModel,
                                         measurements: np.ndarray) -> None:
        from cardioscreen.ensemble.inputs import network_outputs, record_feature_matrix

        rows = np.flatnonzero((data.split == "val") & (data.source == "ptbxl"))
        x = data.x[rows]
        probs, emb = network_outputs(load_bundle(bundle_dir), x)
        feats, _ = record_feature_matrix(x, 100, LEADS)
        measured = model.predict(probs, emb, model.hand_made(feats, measurements[rows]), "ensemble")
        unmeasured = model.predict(probs, emb, model.hand_made(feats, None), "ensemble")
        assert np.abs(measured - unmeasured).max() > 1e-3

    def test_nan_measurements_of_z100_records(self, data: TaskData, bundle_dir: Path, model: EnsembleModel,
                                              measurements: np.ndarray) -> None:
        from cardioscreen.ensemble.inputs import network_outputs
        from cardioscreen.ensemble.reported import ReportedOutput
        from cardioscreen.errors import CardioScreenError

        z100 = data.source == "z100"
        assert np.isnan(measurements[z100]).all() and np.isfinite(measurements[~z100]).any(axis=1).all()
        bundle = load_bundle(bundle_dir)
        output = ReportedOutput(replace(model, defaults=dict.fromkeys(model.defaults, "ensemble")),
                                bundle.thresholds, ())
        x = data.x[z100 & (data.split == "val")]
        features = output.features(x, bundle.input_spec, None)
        assert features is not None and np.isnan(features[:, -len(model.measurement_names):]).all()
        probs, emb = network_outputs(bundle, x)
        reported = output.probabilities(probs, emb, features)
        assert reported.shape == (len(x), 22) and ((reported >= 1e-3) & (reported <= 0.999)).all()
        with pytest.raises(CardioScreenError, match="measurements of shape"):
            model.hand_made(features[:, : len(model.feature_names)], np.zeros((len(x), 5)))

    def test_the_analyzer_gives_the_stack_the_training_row(self, data: TaskData, bundle_dir: Path,
                                                           model: EnsembleModel, measurements: np.ndarray,
                                                           ptbxl_dir: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
        """Analyzer.analyze of a PTB-XL file passes the stack the same measurement row training measured."""
        import shutil

        from cardioscreen.datasets.ptbxl import PTBXL
        from cardioscreen.ensemble.reported import ReportedOutput
        from cardioscreen.pipeline import Analyzer

        copy = tmp_path / "bundle"
        shutil.copytree(bundle_dir, copy)
        save_ensemble(replace(model, defaults=dict.fromkeys(model.defaults, "ensemble")), copy)
        analyzer = Analyzer.load(copy)
        seen: list[np.ndarray] = []
        real = ReportedOutput.probabilities

        def spy(self: ReportedOutput, network: np.ndarray, embeddings: np.ndarray,
                features: np.ndarray | None = None) -> np.ndarray:
            assert features is not None
            seen.append(features)
            return real(self, network, embeddings, features)

        monkeypatch.setattr(ReportedOutput, "probabilities", spy)
        ptbxl = PTBXL.load(ptbxl_dir)
        width = len(model.measurement_names)
        for row in np.flatnonzero((data.source == "ptbxl") & (data.split == "val"))[:2]:
            path = ptbxl.record_path(int(data.ecg_ids[row]), 500).with_suffix(".hea")
            result = analyzer.analyze_file(path)[1]
            assert result.refusal is None and len(seen) == 1
            np.testing.assert_array_equal(seen.pop()[0, -width:], measurements[row])
            assert np.isfinite(measurements[row]).sum() > 100


class TestPerTaskDefault:
    """Each task's default is the stack only where its paired 90 % interval of macro-AUC gain lies above 0."""

    def test_interval_including_zero_stays_on_the_network(self, data: TaskData, bundle_dir: Path) -> None:
        from cardioscreen.ensemble.inputs import network_outputs
        from cardioscreen.ensemble.train import compare_outputs
        from cardioscreen.models.bundle import default_bundle_path

        val = data.in_split("val")
        untrained = network_outputs(load_bundle(bundle_dir), val.x)[0]
        shipped = network_outputs(load_bundle(default_bundle_path()), val.x)[0]
        cols = val.task_columns("superdiagnostic")
        # the same scores: a gain of exactly 0, interval [0, 0]
        same = compare_outputs(val.y, val.mask, untrained, untrained.copy(), cols, CONFIG)
        assert same["difference"] == 0 and same["difference_ci"] == [0.0, 0.0] and default_of(same) == "network"
        # the trained network against an untrained one on the same fold-9 records: a gain above 0
        trained = compare_outputs(val.y, val.mask, untrained, shipped, cols, CONFIG)
        assert trained["difference_ci"][0] > 0.1 and default_of(trained) == "ensemble"
        # and the other way round: a loss
        worse = compare_outputs(val.y, val.mask, shipped, untrained, cols, CONFIG)
        assert worse["difference_ci"][1] < 0 and default_of(worse) == "network"

    def test_mixed_defaults_report_each_tasks_output(self, data: TaskData, bundle_dir: Path,
                                                     model: EnsembleModel, measurements: np.ndarray) -> None:
        from cardioscreen.ensemble.inputs import network_outputs, record_feature_matrix

        mixed = replace(model, defaults={"seed17": "ensemble", "superdiagnostic": "network"})
        assert mixed.default == "seed17: ensemble, superdiagnostic: network" and mixed.uses_ensemble
        rows = np.flatnonzero(data.split == "val")[:5]
        probs, emb = network_outputs(load_bundle(bundle_dir), data.x[rows])
        feats, _ = record_feature_matrix(data.x[rows], 100, LEADS)
        hand = mixed.hand_made(feats, measurements[rows])
        out = mixed.predict(probs, emb, hand)
        seed17 = np.array([t == "seed17" for t in mixed.column_tasks])
        np.testing.assert_array_equal(out[:, seed17], mixed.predict(probs, emb, hand, "ensemble")[:, seed17])
        np.testing.assert_array_equal(out[:, ~seed17], mixed.predict(probs, emb, hand, "network")[:, ~seed17])
        thresholds = mixed.thresholds_for()
        np.testing.assert_array_equal(thresholds[seed17], mixed.thresholds["ensemble"][seed17])
        np.testing.assert_array_equal(thresholds[~seed17], mixed.thresholds["network"][~seed17])
        assessed = mixed.assessment_for()
        assert assessed[0] is mixed.assessment["ensemble"][0] and assessed[-1] is mixed.assessment["network"][-1]
