"""Record scores from a network: normalise, cut into windows (or beats), run, aggregate per record."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cardioscreen.datasets.preprocess import normalise, windows
from cardioscreen.models.bundle import Bundle, InputSpec
from cardioscreen.record import ECGRecord

if TYPE_CHECKING:
    import torch
    from torch import nn



def probabilities(
    model: nn.Module, x: np.ndarray, batch_size: int = 256, device: torch.device | None = None
) -> np.ndarray:
    """``sigmoid(model(x))`` in batches: ``(n, n_outputs)`` for network inputs ``x`` ``(n, ...)``."""
    import torch

    device = device or next(model.parameters()).device
    model.eval()
    out = []
    for start in range(0, len(x), batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(x[start : start + batch_size], dtype=np.float32))
        with torch.no_grad():
            out.append(torch.sigmoid(model(batch.to(device))).float().cpu().numpy())
    return np.concatenate(out)


def predict_windows(
    model: nn.Module,
    x: np.ndarray,
    spec: InputSpec,
    *,
    device: torch.device | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Record probabilities ``(n, n_labels)`` for normalised records ``x`` ``(n, leads, samples)``.

    Records longer than ``spec.samples`` are cut into windows every ``spec.stride`` samples and their
    probabilities aggregated by ``spec.aggregate``.
    """
    if x.shape[-1] == spec.samples:
        return probabilities(model, x, batch_size, device)
    parts = [windows(record, spec.samples, spec.stride) for record in x]
    counts = [len(p) for p in parts]
    probs = probabilities(model, np.concatenate(parts), batch_size, device)
    bounds = np.cumsum([0, *counts])
    return np.stack([spec.aggregate_outputs(probs[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)])


def predict_inputs(bundle: Bundle, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Record probabilities ``(n, n_labels)`` of ``bundle`` for normalised records ``x`` ``(n, 12, samples)``."""
    spec = bundle.input_spec
    if spec.kind == "beats":
        from cardioscreen.training.seed import predict_beats

        return predict_beats(bundle.model, x, spec, batch_size=batch_size)
    return predict_windows(bundle.model, x, spec, batch_size=batch_size)


def record_input(record: ECGRecord, spec: InputSpec) -> np.ndarray:
    """The normalised 12-lead signal of ``record`` at ``spec.fs`` (``(12, samples)``) for :func:`predict_record`."""
    std = record.to_standard12()
    sig = std.signal[[std.leads.index(lead) for lead in spec.leads]]
    return normalise(sig, std.fs, spec.recipe)


def predict_record(bundle: Bundle, record: ECGRecord) -> np.ndarray:
    """Probabilities ``(n_labels,)`` of one record of any length, rate and lead order."""
    return predict_inputs(bundle, record_input(record, bundle.input_spec)[None])[0]
