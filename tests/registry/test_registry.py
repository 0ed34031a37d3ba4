"""The model registry: versions by content hash, promotion and rollback, shadow; the paired comparison and the
promotion check, on the shipped bundle and altered copies of it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from cardioscreen.cli import main
from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import MANIFEST, WEIGHTS, add_to_manifest, content_hash, default_bundle_path
from cardioscreen.registry import ModelRegistry
from cardioscreen.registry.compare import compare_bundles, worse_tasks


def _copy(target: Path, note: str) -> Path:
    """The shipped bundle with one extra manifest key: the same network under another version."""
    shutil.copytree(default_bundle_path(), target)
    add_to_manifest(target, "note", note)
    return target


def _noisy(target: Path, scale: float) -> Path:
    """The shipped bundle with Gaussian noise of ``scale`` times each tensor's spread added to the weights of its
    convolutions and linear layers (norm layers and running statistics left alone)."""
    _copy(target, f"noise {scale}")
    generator = torch.Generator().manual_seed(0)
    weights = load_file(str(target / WEIGHTS))
    noisy = {k: v + scale * v.float().std().nan_to_num() * torch.randn(v.shape, generator=generator)
             if k.endswith("weight") and v.ndim > 1 else v for k, v in weights.items()}
    save_file(noisy, str(target / WEIGHTS))
    for name in ("model.onnx", "model.onnx.json"):  # the cached graph belongs to the old weights
        (target / name).unlink()
    return target


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bundles")
    return {"same": _copy(root / "same", "copy"), "worse": _noisy(root / "worse", 1.0)}


def test_content_hash(bundles: dict[str, Path], tmp_path: Path) -> None:
    shipped = content_hash(default_bundle_path())
    assert len(shipped) == 12 and content_hash(bundles["same"]) != shipped
    again = shutil.copytree(bundles["same"], tmp_path / "again")
    (again / "model.onnx").unlink()  # the derived ONNX cache is not part of the version
    assert content_hash(again) == content_hash(bundles["same"])
    with pytest.raises(CardioScreenError, match="not a model bundle"):
        content_hash(tmp_path)


class TestRegistry:
    def test_promote_rollback_shadow(self, bundles: dict[str, Path], tmp_path: Path) -> None:
        registry = ModelRegistry(tmp_path / "models")
        shipped = content_hash(default_bundle_path())
        assert registry.active_version == shipped and registry.active_path() == default_bundle_path()
        same = registry.add(bundles["same"], note="a copy")
        assert registry.add(bundles["same"]).version == same.version  # one content, one version
        assert same.training["n_records"] == {"train": 3599, "val": 485} or same.training["n_records"]
        assert set(same.validation) == {"seed17", "superdiagnostic"}
        assert [e.version for e in registry.entries()] == [shipped, same.version]
        assert (Path(same.path) / MANIFEST).is_file() and Path(same.path).parent == tmp_path / "models"

        assert registry.set_shadow(same.version[:6]) == same.version
        assert registry.shadow_path() == Path(same.path)
        assert registry.promote(same.version) == (shipped, same.version)
        assert registry.shadow_version is None  # promoted: no longer a shadow
        assert registry.active_path() == Path(same.path) and registry.history() == [shipped]
        with pytest.raises(CardioScreenError, match="already the active one"):
            registry.promote(same.version)
        with pytest.raises(CardioScreenError, match="the active one"):
            registry.set_shadow(same.version)
        assert registry.rollback() == (same.version, shipped)
        assert registry.active_path() == default_bundle_path()
        with pytest.raises(CardioScreenError, match="no earlier active model"):
            registry.rollback()
        with pytest.raises(CardioScreenError, match="is not registered"):
            registry.get("ffff")
        state = json.loads((tmp_path / "models" / "registry.json").read_text())
        assert state["active"] is None and state["history"] == []


def test_worse_tasks() -> None:
    comparison = {"seed17": {"difference": -0.02}, "superdiagnostic": {"difference": -0.005},
                  "other": {"difference": float("nan")}}
    assert worse_tasks(comparison, 0.01) == ["seed17", "other"]
    assert worse_tasks(comparison, 0.03) == ["other"]


def test_compare_same_network_and_worse(bundles: dict[str, Path], shared_data: Path) -> None:
    z100 = shared_data / "ptbxl-z100"
    same = compare_bundles(default_bundle_path(), bundles["same"], z100, tasks=["seed17"], n_boot=50)["seed17"]
    assert same["n_records"] > 100 and same["difference"] == 0 and same["difference_ci"] == [0.0, 0.0]
    assert all(c["auc_a"] == c["auc_b"] for c in same["per_class"].values() if np.isfinite(c["auc_a"]))
    worse = compare_bundles(default_bundle_path(), bundles["worse"], z100, tasks=["seed17"], n_boot=50)["seed17"]
    assert worse["difference"] < -0.05 and worse["difference_ci"][1] < 0
    assert worse["macro_auc_a"] == pytest.approx(same["macro_auc_a"])


def test_cli_refuses_a_worse_candidate(bundles: dict[str, Path], shared_data: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--data-dir", str(tmp_path)]
    assert main(["models", "add", str(bundles["worse"]), *common]) == 0
    version = content_hash(bundles["worse"])
    reference = ["--reference", str(shared_data / "ptbxl-z100"), "--folds", "9", "--task", "seed17", "--n-boot", "50"]
    assert main(["models", "promote", version, *common, *reference]) == 2
    assert "not promoted" in capsys.readouterr().err
    assert ModelRegistry(tmp_path / "models").active_version == content_hash(default_bundle_path())
    assert main(["models", "promote", version, *common, *reference, "--margin", "1"]) == 0
    assert ModelRegistry(tmp_path / "models").active_version == version
    assert main(["models", "list", *common]) == 0
    assert f"{version}  active" in capsys.readouterr().out
