"""``se_ecgnet_seed``: the prototype's beat-level SE-ECGNet, rebuilt so its size matches the prototype exactly.

The prototype trained 17 one-vs-rest copies of this network on single beats (1 s at 500 Hz, 12 leads) and each
copy had 42,756,561 parameters with its 2-logit head. Its source is lost; what is known is its outline, which
follows the SE-ECGNet paper (Zhang, Zhao & Liu 2020, arXiv 2012.05510) with the multi-scale kernels turned
across the leads:

* input ``(B, 1, 12, 500)``;
* a 2-D stage of temporal ``(1, k)`` convolutions and an SE gate;
* three parallel cross-lead branches with ``(3, 1)``, ``(5, 1)``, ``(7, 1)`` kernels, each with an SE gate;
* per branch a 1-D stage over the flattened leads (``12 leads x 32 channels = 384``) with SE gates and strided
  shortcut convolutions; global average pooling;
* a head ``1152 -> 288 -> classes`` (``1152 = 3 branches x 384``).

Derivation of the widths and kernels (``width = 16``, SE reduction 16)
-----------------------------------------------------------------------
Nearly all parameters sit in the 1-D convolutions, ``384 x 384 x k = 147,456 k`` each, so their number and
kernels fix the count to within ~0.3 %; the 2-D stage, the SE gates and the batch norms fix the rest. An odd
total needs one odd term: an SE gate on ``C0 = 16`` channels with reduction 16 has a single hidden unit and
``16 + 1 + 16 + 16 = 49`` parameters. A search over the outline above (stem kernel, blocks and convolutions per
stage, kernels) kept the configurations that land exactly on 42,756,561; the one below is the closest to the
paper's own code (its 2-D blocks hold three convolutions, its 1-D blocks have strided shortcuts). Other
configurations reach the same count, so the count does not pin the architecture down: this is a reconstruction
of the prototype's size and outline, not its recovered layer list.

Parameters per part (with 2 classes):

* stem, 864: Conv2d 1->16 (1, 51) stride (1, 2) with bias; BN(16).
* temporal stage, 49,584: 3 blocks, each 3 x [BN(16), ReLU, Conv2d 16->16 (1, 21)] (the first with stride
  (1, 2)) plus a shortcut [BN(16), ReLU, Conv2d 16->16 1x1 stride (1, 2) with bias].
* temporal SE gate, 49: SE(16, r=16), 16 -> 1 -> 16.
* cross-lead branches k = 3, 5, 7, 25,542 in all: [BN(16), Conv2d 16->32 (k, 1)], [BN(32), Conv2d 32->32
  (k, 1)], SE(32, r=16); shortcut [BN(16), Conv2d 16->32 1x1 with bias].
* 1-D stages with kernels 7, 9, 11 (one per branch), 42,347,880 in all: 5 blocks each, every block
  2 x [BN(384), ReLU, Conv1d 384->384 k] (the first with stride 2), SE(384, r=16) and a shortcut
  [BN(384), ReLU, Conv1d 384->384 1x1 stride 2 with bias].
* head, 332,642: Linear 1152->288, ReLU, Dropout, Linear 288->2.

Total 42,756,561 (asserted by ``tests/models/test_models.py``). Time runs 500 -> 225 (stem) -> 113 -> 57 -> 29
(temporal blocks) -> 15 -> 8 -> 4 -> 2 -> 1 (1-D blocks). ``width`` scales every channel count (the 1-D stage has
``2 * width * leads`` channels); other kernels are arguments of :class:`SeedNetConfig`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from cardioscreen.models.layers import SEBlock1d, SEBlock2d
from cardioscreen.models.registry import register_model


@dataclass(frozen=True)
class SeedNetConfig:
    """Architecture of :class:`SEECGNetSeed` (defaults: the prototype's, 42,756,561 parameters with 2 classes)."""

    num_classes: int = 2
    in_channels: int = 12
    width: int = 16
    reduction: int = 16
    stem_kernel: int = 51
    temporal_kernel: int = 21
    temporal_blocks: int = 3
    temporal_convs: int = 3
    lead_kernels: tuple[int, ...] = (3, 5, 7)
    seq_kernels: tuple[int, ...] = (7, 9, 11)
    seq_blocks: int = 5
    dropout: float = 0.5

    def __post_init__(self) -> None:
        positive = {k: getattr(self, k) for k in ("num_classes", "in_channels", "width", "reduction", "stem_kernel",
                                                  "temporal_kernel", "temporal_blocks", "temporal_convs", "seq_blocks")}
        bad = [f"{k}={v}" for k, v in positive.items() if v < 1]
        if bad:
            raise ValueError(f"SeedNetConfig values must be >= 1: {', '.join(bad)}")
        if len(self.lead_kernels) != len(self.seq_kernels) or not self.lead_kernels:
            raise ValueError(f"lead_kernels {self.lead_kernels} and seq_kernels {self.seq_kernels} need equal length")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


def _bn_relu_conv2d(cin: int, cout: int, kernel: tuple[int, int], stride: tuple[int, int], bias: bool) -> nn.Sequential:
    padding = (kernel[0] // 2, kernel[1] // 2)
    return nn.Sequential(nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, cout, kernel, stride, padding, bias=bias))


def _bn_relu_conv1d(cin: int, cout: int, kernel: int, stride: int, bias: bool) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm1d(cin), nn.ReLU(), nn.Conv1d(cin, cout, kernel, stride, kernel // 2, bias=bias))


class _TemporalBlock(nn.Module):
    """Pre-activation residual block of ``(1, k)`` convolutions halving time, with a strided 1x1 shortcut."""

    def __init__(self, channels: int, kernel: int, convs: int) -> None:
        super().__init__()
        self.body = nn.Sequential(*[
            _bn_relu_conv2d(channels, channels, (1, kernel), (1, 2) if i == 0 else (1, 1), bias=False)
            for i in range(convs)
        ])
        self.shortcut = _bn_relu_conv2d(channels, channels, (1, 1), (1, 2), bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


class _LeadBranch(nn.Module):
    """Two ``(k, 1)`` convolutions across the leads, an SE gate and a 1x1 shortcut that widens the channels."""

    def __init__(self, cin: int, cout: int, kernel: int, reduction: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _bn_relu_conv2d(cin, cout, (kernel, 1), (1, 1), bias=False),
            _bn_relu_conv2d(cout, cout, (kernel, 1), (1, 1), bias=False),
            SEBlock2d(cout, reduction),
        )
        self.shortcut = _bn_relu_conv2d(cin, cout, (1, 1), (1, 1), bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


class _SeqBlock(nn.Module):
    """Two 1-D convolutions (the first with stride 2), an SE gate, and a strided 1x1 shortcut."""

    def __init__(self, channels: int, kernel: int, reduction: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _bn_relu_conv1d(channels, channels, kernel, 2, bias=False),
            _bn_relu_conv1d(channels, channels, kernel, 1, bias=False),
            SEBlock1d(channels, reduction),
        )
        self.shortcut = _bn_relu_conv1d(channels, channels, 1, 2, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


class SEECGNetSeed(nn.Module):
    """The prototype's beat network; see the module docstring for the layer table.

    Parameters
    ----------
    config : SeedNetConfig
        Architecture; the default reproduces the prototype.

    Notes
    -----
    Input: beats ``(B, leads, samples)`` or ``(B, 1, leads, samples)``; the prototype used 12 x 500 (1 s at
    500 Hz). Output of :meth:`forward_features`: ``(B, len(lead_kernels) * 2 * width * leads)``.
    """

    def __init__(self, config: SeedNetConfig) -> None:
        super().__init__()
        self.config = config
        c0, c1 = config.width, 2 * config.width
        seq_channels = c1 * config.in_channels
        self.stem = nn.Sequential(
            nn.Conv2d(1, c0, (1, config.stem_kernel), (1, 2), bias=True), nn.BatchNorm2d(c0), nn.ReLU()
        )
        self.temporal = nn.Sequential(
            *[_TemporalBlock(c0, config.temporal_kernel, config.temporal_convs) for _ in range(config.temporal_blocks)],
            SEBlock2d(c0, config.reduction),
        )
        self.branches = nn.ModuleList(_LeadBranch(c0, c1, k, config.reduction) for k in config.lead_kernels)
        self.sequences = nn.ModuleList(
            nn.Sequential(*[_SeqBlock(seq_channels, k, config.reduction) for _ in range(config.seq_blocks)])
            for k in config.seq_kernels
        )
        self.num_features = seq_channels * len(config.lead_kernels)
        hidden = self.num_features // 4
        self.head = nn.Sequential(
            nn.Linear(self.num_features, hidden), nn.ReLU(), nn.Dropout(config.dropout),
            nn.Linear(hidden, config.num_classes),
        )

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Embedding ``(B, num_features)`` of beats ``(B, leads, samples)`` or ``(B, 1, leads, samples)``."""
        if x.ndim == 3:
            x = x.unsqueeze(1)
        out = self.temporal(self.stem(x))
        pooled = []
        for branch, sequence in zip(self.branches, self.sequences, strict=True):
            sep = branch(out)
            sep = sep.reshape(sep.shape[0], -1, sep.shape[-1])
            pooled.append(sequence(sep).mean(dim=-1))
        return torch.cat(pooled, dim=1)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)`` from the embedding."""
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model
def se_ecgnet_seed(
    num_classes: int = 2,
    in_channels: int = 12,
    width: int = 16,
    lead_kernels: Sequence[int] = (3, 5, 7),
    seq_kernels: Sequence[int] = (7, 9, 11),
    **kwargs: int | float,
) -> SEECGNetSeed:
    """The prototype's beat network (42,756,561 parameters with the defaults and 2 classes)."""
    config = SeedNetConfig(
        num_classes=num_classes, in_channels=in_channels, width=width,
        lead_kernels=tuple(lead_kernels), seq_kernels=tuple(seq_kernels), **kwargs,  # type: ignore[arg-type]
    )
    return SEECGNetSeed(config)
