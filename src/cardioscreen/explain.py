"""Which leads and segments drove a class's score: integrated gradients on the network's input.

Integrated gradients (Sundararajan et al., 2017) attribute a logit to each input sample as
``(x - x0) * mean_k grad f(x0 + k/m (x - x0))``; with a zero baseline (the mean of a z-scored lead) the
attributions sum to ``f(x) - f(x0)``. The map shown to a doctor is the absolute attribution smoothed over
about 80 ms, stretched to the record's rate and scaled to [0, 1] across all leads, so that leads can be
compared with each other.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import uniform_filter1d

SMOOTHING_S = 0.08


def integrated_gradients(model: object, x: np.ndarray, class_indices: Sequence[int], steps: int = 16) -> np.ndarray:
    """Integrated-gradients attributions of the chosen logits to one input.

    Parameters
    ----------
    model : torch.nn.Module
        Network mapping ``(batch, leads, samples)`` to logits ``(batch, classes)``; used in eval mode.
    x : np.ndarray
        One network input, shape ``(leads, samples)``.
    class_indices : sequence of int
        Logits to explain.
    steps : int
        Riemann steps along the straight path from the zero baseline to ``x`` (evaluated as one batch).

    Returns
    -------
    np.ndarray
        Shape ``(len(class_indices), leads, samples)``, signed attributions.
    """
    import torch

    net: torch.nn.Module = model  # type: ignore[assignment]
    inputs = torch.as_tensor(x, dtype=torch.float32)
    alphas = (torch.arange(1, steps + 1, dtype=torch.float32) / steps).view(-1, 1, 1)
    path = (alphas * inputs.unsqueeze(0)).requires_grad_(True)
    logits = net(path)
    attributions = []
    for k, index in enumerate(class_indices):
        (grad,) = torch.autograd.grad(
            logits[:, index].sum(), path, retain_graph=k < len(class_indices) - 1
        )
        attributions.append((inputs * grad.mean(dim=0)).detach().numpy())
    return np.stack(attributions) if attributions else np.zeros((0, *x.shape), dtype=np.float32)


def attribution_magnitude(attribution: np.ndarray, fs: float, out_samples: int) -> np.ndarray:
    """Absolute attribution ``(leads, samples)`` at ``fs``, smoothed and stretched to ``out_samples`` samples."""
    magnitude = uniform_filter1d(np.abs(attribution), size=max(1, int(SMOOTHING_S * fs)), axis=-1)
    source = np.linspace(0.0, 1.0, magnitude.shape[-1])
    target = np.linspace(0.0, 1.0, out_samples)
    return np.stack([np.interp(target, source, lead) for lead in magnitude]).astype(np.float32)
