"""Inference engines: ONNX Runtime agrees with PyTorch; a stored graph is used only while it fits the weights."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from cardioscreen.io import read_ecg
from cardioscreen.models.bundle import WEIGHTS, default_bundle_path, load_bundle
from cardioscreen.runtime import export_onnx, make_runner, stored_onnx
from cardioscreen.training.inference import record_input


@pytest.fixture()
def bundle_copy(tmp_path):
    target = tmp_path / "bundle"
    shutil.copytree(default_bundle_path(), target)
    return target


class TestEngines:
    def test_onnx_matches_torch_on_real_records(self, ptbxl_dir):
        bundle = load_bundle(default_bundle_path())
        spec = bundle.input_spec
        paths = sorted((ptbxl_dir / "records500").rglob("*.hea"))[:8]
        x = np.stack([record_input(read_ecg(p), spec)[..., : spec.samples] for p in paths])
        onnx_probs, onnx_emb = make_runner(bundle, "onnx")(x)
        torch_probs, torch_emb = make_runner(bundle, "torch")(x)
        assert onnx_probs.shape == (8, len(bundle.labels)) and onnx_emb.shape[0] == 8
        np.testing.assert_allclose(onnx_probs, torch_probs, atol=1e-4)
        np.testing.assert_allclose(onnx_emb, torch_emb, atol=1e-4)

    def test_stored_graph_is_dropped_when_weights_change(self, bundle_copy):
        bundle = load_bundle(bundle_copy)
        export_onnx(bundle, save=True)
        assert stored_onnx(bundle) is not None
        weights = load_file(str(bundle_copy / WEIGHTS))
        name = next(key for key, value in weights.items() if value.ndim > 0 and value.dtype.kind == "f")
        weights[name] = weights[name] + np.float32(1.0)
        save_file(weights, str(bundle_copy / WEIGHTS))
        assert stored_onnx(load_bundle(bundle_copy)) is None

    def test_unknown_backend_is_named(self):
        from cardioscreen.errors import CardioScreenError

        with pytest.raises(CardioScreenError, match="onnx"):
            make_runner(load_bundle(default_bundle_path()), "tensorrt")


class TestFastPathFootprint:
    def test_onnx_analysis_imports_no_heavy_library(self, example_record_path):
        """The ONNX path with the shipped bundle (network output) reads the manifest, the graph and the record
        only: PyTorch, CatBoost, scikit-learn, pandas and the wfdb library are never imported (start-up, memory)."""
        import subprocess
        import sys

        heavy = ("torch", "catboost", "sklearn", "pandas", "wfdb")
        code = (
            "import sys\n"
            "from cardioscreen.pipeline import Analyzer\n"
            f"Analyzer.load().analyze_file({str(example_record_path)!r})\n"
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "[]"
