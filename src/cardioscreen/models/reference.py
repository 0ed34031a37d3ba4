"""Reference networks of the PTB-XL benchmark (Strodthoff et al. 2020): ``xresnet1d101`` and ``inception1d``.

Both take 100 Hz records ``(B, leads, samples)``; the benchmark trains them on random 2.5 s crops and scores a
record by the maximum over sliding windows (see :mod:`cardioscreen.models.windows`). Both end in the fastai
concat-pooling head: adaptive average and max pooling concatenated, then batch norm, dropout and a linear layer.

* ``xresnet1d101``: the "bag of tricks" ResNet-D (He et al. 2019) with 1-D convolutions of kernel 5: a three-conv
  stem (32, 32, 64 channels, the first strided), max pooling, bottleneck blocks (expansion 4) in stages of
  3, 4, 23, 3 blocks with 64, 128, 256, 512 channels, average-pool shortcuts when strided, the last batch norm of
  each block initialised to zero.
* ``inception1d``: InceptionTime-style blocks (a 1x1 bottleneck to 32 channels, then kernels 39, 19 and 9 in
  parallel plus a max-pool branch, concatenated to 128 channels), depth 6 with a residual shortcut every 3 blocks.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cardioscreen.models.registry import register_model


class ConcatPoolHead(nn.Module):
    """Adaptive average + max pooling over time, then BN, dropout and a linear layer."""

    def __init__(self, channels: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.num_features = 2 * channels
        self.classifier = nn.Sequential(nn.BatchNorm1d(2 * channels), nn.Dropout(dropout), nn.Linear(2 * channels,
                                                                                                     num_classes))

    @staticmethod
    def pool(x: torch.Tensor) -> torch.Tensor:
        """``(B, C, T) -> (B, 2C)``: mean and max over time."""
        return torch.cat([x.mean(dim=-1), x.amax(dim=-1)], dim=1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.classifier(features)


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, relu: bool = True, zero: bool = False) -> nn.Sequential:
    bn = nn.BatchNorm1d(cout)
    nn.init.constant_(bn.weight, 0.0 if zero else 1.0)
    layers: list[nn.Module] = [nn.Conv1d(cin, cout, kernel, stride, kernel // 2, bias=False), bn]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class _Bottleneck(nn.Module):
    """ResNet-D bottleneck: 1x1, k (strided), 1x1 (zero-initialised BN); average-pool + 1x1 shortcut."""

    def __init__(self, cin: int, hidden: int, cout: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _conv_bn(cin, hidden, 1), _conv_bn(hidden, hidden, kernel, stride), _conv_bn(hidden, cout, 1, relu=False,
                                                                                          zero=True)
        )
        shortcut: list[nn.Module] = []
        if stride != 1:
            shortcut.append(nn.AvgPool1d(stride, ceil_mode=True))
        if cin != cout:
            shortcut.append(_conv_bn(cin, cout, 1, relu=False))
        self.shortcut = nn.Sequential(*shortcut)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


class XResNet1d(nn.Module):
    """fastai-style xresnet with 1-D convolutions (bottleneck blocks, expansion 4)."""

    def __init__(
        self, layers: Sequence[int], num_classes: int, in_channels: int, kernel: int, widths: Sequence[int],
        dropout: float,
    ) -> None:
        super().__init__()
        stem_widths = (in_channels, 32, 32, 64)
        self.stem = nn.Sequential(
            *[_conv_bn(stem_widths[i], stem_widths[i + 1], kernel, 2 if i == 0 else 1) for i in range(3)],
            nn.MaxPool1d(3, 2, 1),
        )
        blocks: list[nn.Module] = []
        cin = 64
        for stage, (n, width) in enumerate(zip(layers, widths, strict=True)):
            for i in range(n):
                stride = 2 if stage > 0 and i == 0 else 1
                blocks.append(_Bottleneck(cin, width, 4 * width, kernel, stride))
                cin = 4 * width
        self.blocks = nn.Sequential(*blocks)
        self.head = ConcatPoolHead(cin, num_classes, dropout)
        self.num_features = self.head.num_features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Concat-pooled embedding ``(B, 2 * 4 * widths[-1])`` of records ``(B, leads, samples)``."""
        return ConcatPoolHead.pool(self.blocks(self.stem(x)))

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)``."""
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class _InceptionBlock(nn.Module):
    """Bottleneck 1x1, parallel convolutions (kernels 39, 19, 9) and a max-pool branch, concatenated, BN, ReLU."""

    def __init__(self, cin: int, filters: int, kernels: Sequence[int], bottleneck: int) -> None:
        super().__init__()
        self.bottleneck = nn.Conv1d(cin, bottleneck, 1, bias=False) if cin > 1 else nn.Identity()
        mid = bottleneck if cin > 1 else cin
        self.convs = nn.ModuleList(nn.Conv1d(mid, filters, k, padding=k // 2, bias=False) for k in kernels)
        self.pool = nn.Sequential(nn.MaxPool1d(3, 1, 1), nn.Conv1d(cin, filters, 1, bias=False))
        self.out = nn.Sequential(nn.BatchNorm1d(filters * (len(kernels) + 1)), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = self.bottleneck(x)
        return self.out(torch.cat([conv(b) for conv in self.convs] + [self.pool(x)], dim=1))


class Inception1d(nn.Module):
    """InceptionTime-style network of the PTB-XL benchmark with residual shortcuts every three blocks."""

    def __init__(
        self, num_classes: int, in_channels: int, depth: int, filters: int, kernels: Sequence[int], dropout: float
    ) -> None:
        super().__init__()
        if depth % 3:
            raise ValueError(f"inception1d depth must be a multiple of 3, got {depth}")
        channels = filters * (len(kernels) + 1)
        self.blocks = nn.ModuleList(
            _InceptionBlock(in_channels if d == 0 else channels, filters, kernels, filters) for d in range(depth)
        )
        self.shortcuts = nn.ModuleList(
            nn.Sequential(nn.Conv1d(in_channels if s == 0 else channels, channels, 1, bias=False),
                          nn.BatchNorm1d(channels))
            for s in range(depth // 3)
        )
        self.head = ConcatPoolHead(channels, num_classes, dropout)
        self.num_features = self.head.num_features

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Concat-pooled embedding ``(B, 2 * 4 * filters)`` of records ``(B, leads, samples)``."""
        residual = x
        for d, block in enumerate(self.blocks):
            x = block(x)
            if d % 3 == 2:
                x = torch.relu(x + self.shortcuts[d // 3](residual))
                residual = x
        return ConcatPoolHead.pool(x)

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)``."""
        return self.head(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@register_model
def xresnet1d101(
    num_classes: int = 5, in_channels: int = 12, kernel: int = 5, widths: Sequence[int] = (64, 128, 256, 512),
    dropout: float = 0.5,
) -> XResNet1d:
    """xresnet1d101 of the PTB-XL benchmark (stages of 3, 4, 23, 3 bottleneck blocks)."""
    return XResNet1d((3, 4, 23, 3), num_classes, in_channels, kernel, tuple(widths), dropout)


@register_model
def inception1d(
    num_classes: int = 5, in_channels: int = 12, depth: int = 6, filters: int = 32,
    kernels: Sequence[int] = (39, 19, 9), dropout: float = 0.5,
) -> Inception1d:
    """inception1d of the PTB-XL benchmark (kernel sizes 39, 19, 9 and a max-pool branch)."""
    return Inception1d(num_classes, in_channels, depth, filters, tuple(kernels), dropout)
