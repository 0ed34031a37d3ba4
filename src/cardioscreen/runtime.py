"""Inference engines for a bundle's network: the ONNX Runtime fast path and plain PyTorch.

Both map network inputs ``(batch, leads, samples)`` (float32, already normalised) to probabilities
``(batch, labels)`` and embeddings ``(batch, D)`` (``forward_features``, which the boosting stage takes).
The ONNX graph is the bundle's ``model.onnx`` when present and made from the bundle's current weights
(``model.onnx.json`` records their SHA-256), else exported in memory from the PyTorch weights when the engine
starts; a test checks the two engines agree within 1e-4.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import WEIGHTS, Bundle
from cardioscreen.onnx_graph import cpu_session, export_graph, load_graph, save_graph

ONNX_FILE = "model.onnx"

Runner = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""Network inputs ``(batch, leads, samples)`` -> probabilities ``(batch, labels)``, embeddings ``(batch, D)``."""


def _logits_and_embedding(model: object) -> Any:
    """The network as a module returning ``(logits, embedding)`` (registry models expose both stages)."""
    import torch

    class LogitsAndEmbedding(torch.nn.Module):
        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            embedding = self.net.forward_features(x)
            return self.net.forward_head(embedding), embedding

    return LogitsAndEmbedding(model).eval()


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float32)


def export_onnx(bundle: Bundle, save: bool = False) -> bytes:
    """The bundle's network as an ONNX graph (dynamic batch axis) returning logits and embeddings.

    With ``save``, the graph is also written into the bundle as ``model.onnx`` with a stamp of the weights it was
    made from, so that later engines start without exporting again.
    """
    import torch

    dummy = torch.zeros(1, len(bundle.input_spec.leads), bundle.input_spec.samples)
    graph = export_graph(
        _logits_and_embedding(bundle.model), dummy, ["x"], ["logits", "embedding"],
        {"x": {0: "batch"}, "logits": {0: "batch"}, "embedding": {0: "batch"}},
    )
    if save:
        save_graph(graph, bundle.path / ONNX_FILE, bundle.path / WEIGHTS)
    return graph


def stored_onnx(bundle: Bundle) -> bytes | None:
    """The bundle's saved ONNX graph if it was made from the bundle's current weights, else None."""
    return load_graph(bundle.path / ONNX_FILE, bundle.path / WEIGHTS)


def onnx_runner(bundle: Bundle, threads: int = 1) -> Runner:
    """ONNX Runtime on the CPU with ``threads`` intra-op threads (one per process by default)."""
    session = cpu_session(stored_onnx(bundle) or export_onnx(bundle), threads)

    def run(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, embedding = session.run(None, {"x": np.ascontiguousarray(x, dtype=np.float32)})
        return _sigmoid(logits), embedding

    return run


def torch_runner(bundle: Bundle, threads: int = 1) -> Runner:
    """The PyTorch network itself (reference engine, and the one explanations use)."""
    import torch

    torch.set_num_threads(threads)
    network = _logits_and_embedding(bundle.model)

    def run(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            logits, embedding = network(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        return _sigmoid(logits.numpy()), embedding.numpy()

    return run


_BACKENDS: dict[str, Callable[[Bundle, int], Runner]] = {"onnx": onnx_runner, "torch": torch_runner}


def make_runner(bundle: Bundle, backend: str = "onnx", threads: int = 1) -> Runner:
    """The inference engine ``backend`` (a key of the backend table) for ``bundle``."""
    if backend not in _BACKENDS:
        raise CardioScreenError(f"unknown backend {backend!r}; choose one of {sorted(_BACKENDS)}")
    return _BACKENDS[backend](bundle, threads)
