"""The bundle: save/load round trip of weights and description, manifest extension, bad bundles refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import InputSpec, Label, add_to_manifest, load_bundle, save_bundle
from cardioscreen.models.registry import create_model

SPEC = InputSpec(
    fs=100.0,
    samples=1000,
    recipe="z100",
    leads=("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"),
)
LABELS = [Label("NORM", "seed17"), Label("IMI", "seed17"), Label("MI", "superdiagnostic")]
CONFIG = {"name": "se_ecgnet", "kwargs": {"num_classes": 3, "in_channels": 12, "width": 2, "seq_width": 8}}


@pytest.fixture()
def saved(tmp_path: Path) -> tuple[Path, torch.nn.Module]:
    torch.manual_seed(0)
    model = create_model(CONFIG["name"], **CONFIG["kwargs"]).eval()
    path = save_bundle(
        tmp_path / "b",
        model,
        model_config=CONFIG,
        labels=LABELS,
        thresholds=[0.1, 0.2, 0.3],
        input_spec=SPEC,
        training_config={"epochs": 1},
        metrics={"validation": {"x": 1.0}},
    )
    return path, model


class TestBundle:
    def test_round_trip(self, saved: tuple[Path, torch.nn.Module]) -> None:
        path, model = saved
        bundle = load_bundle(path)
        assert bundle.labels == tuple(LABELS) and bundle.input_spec == SPEC
        np.testing.assert_allclose(bundle.thresholds, [0.1, 0.2, 0.3])
        assert bundle.tasks == ("seed17", "superdiagnostic")
        assert bundle.task_columns("superdiagnostic").tolist() == [2]
        x = np.random.default_rng(0).normal(size=(2, 12, 1000)).astype(np.float32)
        with torch.no_grad():
            expected = torch.sigmoid(model(torch.from_numpy(x))).numpy()
        np.testing.assert_allclose(bundle.predict_proba(x), expected, rtol=1e-5, atol=1e-6)
        assert bundle.manifest["n_parameters"] == sum(p.numel() for p in model.parameters())

    def test_manifest_extension(self, saved: tuple[Path, torch.nn.Module]) -> None:
        path, _ = saved
        add_to_manifest(path, "ensemble", {"path": "ensemble/"})
        assert load_bundle(path).manifest["ensemble"] == {"path": "ensemble/"}
        with pytest.raises(CardioScreenError, match="thresholds"):
            add_to_manifest(path, "thresholds", [])

    def test_mismatched_weights_refused(self, saved: tuple[Path, torch.nn.Module]) -> None:
        path, _ = saved
        manifest = json.loads((path / "manifest.json").read_text())
        manifest["model"]["kwargs"]["seq_width"] = 16
        (path / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(CardioScreenError, match="do not fit"):
            load_bundle(path)

    def test_not_a_bundle(self, tmp_path: Path) -> None:
        with pytest.raises(CardioScreenError, match="manifest.json"):
            load_bundle(tmp_path)

    def test_input_spec_validated(self) -> None:
        with pytest.raises(CardioScreenError, match="aggregation"):
            InputSpec(fs=100.0, samples=10, recipe="z100", leads=("I",), aggregate="median")
