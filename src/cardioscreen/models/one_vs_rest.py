"""The seed recipe's ensemble of one-vs-rest binary networks as one multi-output module."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class OneVsRest(nn.Module):
    """``n`` binary networks (2 logits each) as one module with ``n`` outputs: ``logit_pos - logit_neg``.

    Like every registry network it has ``forward_features`` (the members' embeddings side by side) and
    ``forward_head`` (each member's head on its part of the embedding), so the ensemble and the inference
    engines treat it like any other network. The members share one architecture, hence one embedding width.
    """

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([member.forward_features(x) for member in self.members], dim=1)  # type: ignore[operator]

    def forward_head(self, features: torch.Tensor) -> torch.Tensor:
        parts = torch.chunk(features, len(self.members), dim=1)
        outs = [member.forward_head(part) for member, part in zip(self.members, parts, strict=True)]  # type: ignore[operator]
        return torch.stack([o[:, 1] - o[:, 0] if o.shape[1] == 2 else o[:, 0] for o in outs], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))
