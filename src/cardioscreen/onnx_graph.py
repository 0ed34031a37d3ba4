"""ONNX graphs of PyTorch networks for the fast CPU path, stored beside their weights and never used once stale.

A stored graph ``X.onnx`` comes with a stamp ``X.onnx.json`` holding the SHA-256 of the weights file it was
made from; when the weights change, the stamp no longer matches and the graph is exported again in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ONNX_OPSET = 17


def export_graph(
    module: Any,
    example: Any,
    input_names: Sequence[str],
    output_names: Sequence[str],
    dynamic_axes: Mapping[str, Mapping[int, str]],
) -> bytes:
    """``module`` (a ``torch.nn.Module`` in eval mode) traced on ``example`` (a tensor) as ONNX bytes."""
    import torch

    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        target = Path(tmp) / "graph.onnx"
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(
            module, (example,), target, input_names=list(input_names), output_names=list(output_names),
            dynamic_axes={k: dict(v) for k, v in dynamic_axes.items()}, opset_version=ONNX_OPSET, dynamo=False,
        )
        return target.read_bytes()


def _stamp_path(graph_path: Path) -> Path:
    return graph_path.with_name(graph_path.name + ".json")


def _digest(weights_path: Path) -> str:
    return hashlib.sha256(weights_path.read_bytes()).hexdigest()


def save_graph(graph: bytes, graph_path: Path, weights_path: Path) -> None:
    """Write ``graph`` to ``graph_path`` with the stamp of the weights it was made from."""
    graph_path.write_bytes(graph)
    stamp = {"weights_sha256": _digest(weights_path), "opset": ONNX_OPSET}
    _stamp_path(graph_path).write_text(json.dumps(stamp) + "\n")


def load_graph(graph_path: Path, weights_path: Path) -> bytes | None:
    """The graph at ``graph_path`` if it was made from the weights now at ``weights_path``, else None."""
    stamp = _stamp_path(graph_path)
    if not (graph_path.is_file() and stamp.is_file()):
        return None
    if json.loads(stamp.read_text()).get("weights_sha256") != _digest(weights_path):
        logger.warning("%s is stale (the weights changed); exporting the network again", graph_path)
        return None
    return graph_path.read_bytes()


def cpu_session(graph: bytes, threads: int = 1) -> Any:
    """An ONNX Runtime CPU session with ``threads`` intra-op threads (one per process by default)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
