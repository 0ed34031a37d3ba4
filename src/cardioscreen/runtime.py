"""Inference engines for a bundle's network: the ONNX Runtime fast path and plain PyTorch.

Both map network inputs ``(batch, leads, samples)`` (float32, already normalised) to probabilities
``(batch, labels)``. The ONNX graph is the bundle's ``model.onnx`` when present, else exported in memory from
the PyTorch weights when the engine starts; a test checks the two engines agree within 1e-4.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import Bundle

ONNX_FILE = "model.onnx"
ONNX_OPSET = 17

Runner = Callable[[np.ndarray], np.ndarray]


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float32)


def export_onnx(bundle: Bundle, path: Path | None = None) -> bytes:
    """The bundle's network as an ONNX graph (dynamic batch axis); also written to ``path`` when given."""
    import torch

    dummy = torch.zeros(1, len(bundle.input_spec.leads), bundle.input_spec.samples)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        target = Path(tmp) / ONNX_FILE
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(
            bundle.model,
            (dummy,),
            target,
            input_names=["x"],
            output_names=["logits"],
            dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
        graph = target.read_bytes()
    if path is not None:
        path.write_bytes(graph)
    return graph


def onnx_runner(bundle: Bundle, threads: int = 1) -> Runner:
    """ONNX Runtime on the CPU with ``threads`` intra-op threads (one per process by default)."""
    import onnxruntime as ort

    stored = bundle.path / ONNX_FILE
    graph = stored.read_bytes() if stored.exists() else export_onnx(bundle)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])

    def run(x: np.ndarray) -> np.ndarray:
        (logits,) = session.run(None, {"x": np.ascontiguousarray(x, dtype=np.float32)})
        return _sigmoid(logits)

    return run


def torch_runner(bundle: Bundle, threads: int = 1) -> Runner:
    """The PyTorch network itself (reference engine, and the one explanations use)."""
    import torch

    torch.set_num_threads(threads)

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            logits = bundle.model(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        return _sigmoid(logits.numpy())

    return run


_BACKENDS: dict[str, Callable[[Bundle, int], Runner]] = {"onnx": onnx_runner, "torch": torch_runner}


def make_runner(bundle: Bundle, backend: str = "onnx", threads: int = 1) -> Runner:
    """The inference engine ``backend`` (a key of the backend table) for ``bundle``."""
    if backend not in _BACKENDS:
        raise CardioScreenError(f"unknown backend {backend!r}; choose one of {sorted(_BACKENDS)}")
    return _BACKENDS[backend](bundle, threads)
