"""Building blocks shared by the networks: the squeeze-and-excitation gate (1-D and 2-D)."""

from __future__ import annotations

import torch
from torch import nn


class SEBlock(nn.Module):
    """Squeeze-and-excitation gate (Hu et al. 2018) over the channel axis.

    Global average pooling squeezes every channel to one number; two fully connected layers
    (``channels -> max(1, channels // reduction) -> channels``, ReLU then sigmoid) give one gate in (0, 1)
    per channel, which rescales the input.

    Parameters
    ----------
    channels : int
        Number of input channels ``C``.
    reduction : int
        Reduction ratio ``r`` of the hidden layer (16 in the SE-ECGNet paper).
    dim : int
        1 for inputs shaped ``(B, C, T)``, 2 for ``(B, C, H, W)``.
    """

    def __init__(self, channels: int, reduction: int = 16, dim: int = 1) -> None:
        super().__init__()
        if dim not in (1, 2):
            raise ValueError(f"SEBlock dim must be 1 or 2, got {dim}")
        if channels < 1 or reduction < 1:
            raise ValueError(f"SEBlock needs channels >= 1 and reduction >= 1, got {channels}, {reduction}")
        hidden = max(1, channels // reduction)
        self.dim = dim
        self.fc1 = nn.Linear(channels, hidden)
        self.fc2 = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Gate ``x`` (``(B, C, T)`` or ``(B, C, H, W)``) channel by channel; same shape out."""
        squeezed = x.mean(dim=tuple(range(2, x.ndim)))
        gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(squeezed))))
        return x * gate.reshape(*gate.shape, *([1] * self.dim))


class SEBlock1d(SEBlock):
    """:class:`SEBlock` for ``(B, C, T)`` inputs."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__(channels, reduction, dim=1)


class SEBlock2d(SEBlock):
    """:class:`SEBlock` for ``(B, C, H, W)`` inputs."""

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__(channels, reduction, dim=2)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
