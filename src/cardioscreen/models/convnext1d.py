"""``convnext1d``: a 1-D ConvNeXt (Liu et al., "A ConvNet for the 2020s", CVPR 2022) for whole records.

A patchifying stem (kernel = stride = 4), then stages of ConvNeXt blocks — depthwise convolution of kernel 7,
LayerNorm over channels, an inverted-bottleneck MLP (4x, GELU) and a learnable per-channel scale (layer scale) on
the residual branch, with stochastic depth — separated by LayerNorm + strided 1x1-window downsampling
convolutions, and the concat-pooling head of the PTB-XL reference networks (mean and max over time).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cardioscreen.models.reference import ConcatPoolHead
from cardioscreen.models.registry import register_model

_LAYER_SCALE = 0.1
"""Initial layer scale of each block's residual branch (ConvNeXt uses 1e-6 on ImageNet; small ECG sets train
faster from 0.1)."""


class _ChannelNorm(nn.Module):
    """LayerNorm over the channels of ``(B, C, T)``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


class _Block(nn.Module):
    def __init__(self, dim: int, kernel: int, drop_path: float, layer_scale: float) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))
        self.drop_path = drop_path

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch = self.mlp(self.norm(self.dwconv(x).transpose(1, 2))) * self.gamma
        branch = branch.transpose(1, 2)
        if self.training and self.drop_path > 0:
            keep = torch.rand(x.shape[0], 1, 1, device=x.device) >= self.drop_path
            branch = branch * keep / (1 - self.drop_path)
        return x + branch


class ConvNeXt1d(nn.Module):
    """1-D ConvNeXt over records ``(B, leads, samples)``.

    Parameters
    ----------
    num_classes, in_channels : int
        Logits and leads.
    dims : sequence of int
        Channels of each stage.
    depths : sequence of int
        Blocks of each stage.
    kernel : int
        Depthwise kernel (samples).
    drop_path : float
        Highest stochastic-depth rate (linearly increasing over the blocks).
    dropout : float
        Dropout of the head.
    """

    def __init__(
        self, num_classes: int, in_channels: int, dims: Sequence[int], depths: Sequence[int], kernel: int,
        drop_path: float, dropout: float,
    ) -> None:
        super().__init__()
        if len(dims) != len(depths) or not dims:
            raise ValueError("convnext1d needs one depth per stage width")
        rates = torch.linspace(0, drop_path, sum(depths)).tolist()
        layers: list[nn.Module] = [nn.Conv1d(in_channels, dims[0], 4, stride=4), _ChannelNorm(dims[0])]
        block = 0
        for stage, (dim, depth) in enumerate(zip(dims, depths, strict=True)):
            if stage:
                layers += [_ChannelNorm(dims[stage - 1]), nn.Conv1d(dims[stage - 1], dim, 2, stride=2)]
            for _ in range(depth):
                layers.append(_Block(dim, kernel, rates[block], _LAYER_SCALE))
                block += 1
        self.body = nn.Sequential(*layers)
        self.norm = _ChannelNorm(dims[-1])
        self.head = ConcatPoolHead(dims[-1], num_classes, dropout)
        self.num_features = self.head.num_features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Concat-pooled embedding ``(B, 2 * dims[-1])``."""
        return ConcatPoolHead.pool(self.norm(self.body(x)))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)``."""
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model
def convnext1d(
    num_classes: int = 5, in_channels: int = 12, dims: Sequence[int] = (32, 64, 128, 256),
    depths: Sequence[int] = (2, 2, 3, 2), kernel: int = 7, drop_path: float = 0.1, dropout: float = 0.3,
) -> ConvNeXt1d:
    """A small 1-D ConvNeXt (1.64 M parameters with the defaults and 22 classes)."""
    return ConvNeXt1d(num_classes, in_channels, tuple(dims), tuple(depths), kernel, drop_path, dropout)
