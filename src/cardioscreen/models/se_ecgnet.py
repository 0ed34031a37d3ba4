"""``se_ecgnet``: the published SE-ECGNet (Zhang, Zhao & Liu 2020, arXiv 2012.05510) on whole records.

The record is treated as a 2-D ``leads x time`` image: a strided temporal stem and a residual 2-D block with an SE
gate, then three parallel multi-scale branches (kernels 3, 5 and 7 along time). Each branch holds a residual 2-D
block with ``(1, k)`` convolutions, flattens the leads into channels, projects them with a 1x1 convolution and runs
strided residual 1-D blocks with kernel ``k``; every residual block ends in an SE gate (reduction 16). The three
pooled branch outputs are concatenated into the embedding and one linear layer gives the logits.

Any number of leads and samples is accepted (the 1x1 projection absorbs the lead count). The default width is
small (about 0.2 M parameters) so one 12 x 1000 record costs a few milliseconds on one CPU core.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cardioscreen.models.layers import SEBlock1d, SEBlock2d
from cardioscreen.models.registry import register_model


class _Res2d(nn.Module):
    """Two ``(1, k)`` conv-BN layers, an SE gate and a shortcut (1x1 conv when the shape changes)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, reduction: int) -> None:
        super().__init__()
        pad = (0, kernel // 2)
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, (1, kernel), (1, stride), pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, (1, kernel), 1, pad, bias=False), nn.BatchNorm2d(cout),
            SEBlock2d(cout, reduction),
        )
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, (1, stride), bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class _Res1d(nn.Module):
    """Two conv-BN layers with kernel ``k`` (the first strided), an SE gate and a strided 1x1 shortcut."""

    def __init__(self, channels: int, kernel: int, stride: int, reduction: int) -> None:
        super().__init__()
        pad = kernel // 2
        self.body = nn.Sequential(
            nn.Conv1d(channels, channels, kernel, stride, pad, bias=False), nn.BatchNorm1d(channels), nn.ReLU(),
            nn.Conv1d(channels, channels, kernel, 1, pad, bias=False), nn.BatchNorm1d(channels),
            SEBlock1d(channels, reduction),
        )
        self.shortcut = nn.Sequential(nn.Conv1d(channels, channels, 1, stride, bias=False), nn.BatchNorm1d(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class SEECGNet(nn.Module):
    """Multi-scale residual network with SE gates over whole records ``(B, leads, samples)``.

    Parameters
    ----------
    num_classes : int
        Number of logits.
    in_channels : int
        Number of leads.
    width : int
        Channels of the 2-D stages.
    seq_width : int
        Channels of each branch's 1-D stage; the embedding has ``len(kernels) * seq_width`` features.
    kernels : sequence of int
        Temporal kernel of each branch (3, 5, 7 in the paper).
    seq_blocks : int
        Strided 1-D residual blocks per branch (each halves the time axis).
    reduction : int
        SE reduction ratio.
    dropout : float
        Dropout before the linear head.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        width: int,
        seq_width: int,
        kernels: Sequence[int],
        seq_blocks: int,
        reduction: int,
        dropout: float,
    ) -> None:
        super().__init__()
        if min(num_classes, in_channels, width, seq_width, seq_blocks, len(kernels)) < 1:
            raise ValueError("se_ecgnet needs positive num_classes, in_channels, width, seq_width, seq_blocks, kernels")
        self.stem = nn.Sequential(
            nn.Conv2d(1, width, (1, 25), (1, 2), (0, 12), bias=False), nn.BatchNorm2d(width), nn.ReLU(),
            _Res2d(width, width, 15, 2, reduction),
        )
        self.branches = nn.ModuleList(
            nn.Sequential(
                _Res2d(width, width, k, 1, reduction),
                nn.Flatten(1, 2),
                nn.Conv1d(width * in_channels, seq_width, 1, bias=False), nn.BatchNorm1d(seq_width), nn.ReLU(),
                *[_Res1d(seq_width, k, 2, reduction) for _ in range(seq_blocks)],
                nn.AdaptiveAvgPool1d(1), nn.Flatten(1),
            )
            for k in kernels
        )
        self.num_features = seq_width * len(kernels)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(self.num_features, num_classes))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding ``(B, len(kernels) * seq_width)`` of records ``(B, leads, samples)``."""
        out = self.stem(x.unsqueeze(1))
        return torch.cat([branch(out) for branch in self.branches], dim=1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)`` from the embedding."""
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model
def se_ecgnet(
    num_classes: int = 5,
    in_channels: int = 12,
    width: int = 8,
    seq_width: int = 64,
    kernels: Sequence[int] = (3, 5, 7),
    seq_blocks: int = 3,
    reduction: int = 16,
    dropout: float = 0.2,
) -> SEECGNet:
    """SE-ECGNet as published, for whole records of any number of leads."""
    return SEECGNet(num_classes, in_channels, width, seq_width, tuple(kernels), seq_blocks, reduction, dropout)
