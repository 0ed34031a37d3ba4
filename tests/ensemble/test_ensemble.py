"""End to end on real PTB-XL records: a bundle gets an ensemble that is saved, loaded and predicts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cardioscreen.ensemble.persist import EnsembleModel, load_ensemble, save_ensemble
from cardioscreen.ensemble.train import EnsembleConfig, fit_ensemble_on
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
def model(data: TaskData, bundle_dir: Path) -> EnsembleModel:
    """The ensemble of the tiny bundle, fitted once."""
    return fit_ensemble_on(load_bundle(bundle_dir), data, CONFIG)


class TestEnsembleEndToEnd:
    def test_fit_save_load_predict(self, data: TaskData, bundle_dir: Path, model: EnsembleModel) -> None:
        from cardioscreen.ensemble.inputs import network_outputs, record_feature_matrix

        bundle = load_bundle(bundle_dir)
        report = model.report
        assert set(report["tasks"]) == {"seed17", "superdiagnostic"}
        sup = report["tasks"]["superdiagnostic"]
        for key in ("ece_network_raw", "ece_network_calibrated", "ece_ensemble_raw", "ece_ensemble_calibrated"):
            assert 0 <= sup[key] <= 1
        low, high = sup["ensemble"]["macro_auc_ci"]
        assert low <= sup["ensemble"]["macro_auc"] <= high
        # the stack is the default output exactly when the paired interval of its cross-fitted gain is above 0
        overall = report["all"]
        better = overall["difference_ci"][0] > 0
        assert report["default"] == model.default == ("ensemble" if better else "network")
        assert model.thresholds["ensemble"].shape == (22,)
        # 20 training records per folder: no class has 20 training positives, so none is assessed
        assert not any(c.assessed for c in model.assessment_for()) and len(report["not_assessed"]) == 22
        reported = sup["reported"]
        assert reported["exact_01_share"] == 0
        if model.default == "network":  # strictly increasing maps: the ranking is the network's
            assert reported["reported_macro_auc"] == pytest.approx(reported["network_macro_auc"], abs=5e-3)

        save_ensemble(model, bundle_dir)
        assert json.loads((bundle_dir / "manifest.json").read_text())["ensemble"] == "ensemble"
        load_bundle(bundle_dir)
        loaded = load_ensemble(bundle_dir)
        assert loaded is not None and loaded.default == model.default
        assert loaded.assessment == model.assessment

        val = data.in_split("val")
        probs, emb = network_outputs(bundle, val.x[:4])
        feats, names = record_feature_matrix(val.x[:4], 100, LEADS)
        assert names == model.feature_names and emb.shape[1] == model.embedding_dim
        for which in ("network", "ensemble"):
            out = loaded.predict(probs, emb, feats, which)
            np.testing.assert_allclose(out, model.predict(probs, emb, feats, which))
            assert out.shape == (4, 22) and ((out >= 0) & (out <= 1)).all()
            np.testing.assert_allclose(loaded.predict_records(bundle, val.x[:4], which), out)
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
