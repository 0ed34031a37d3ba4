"""The seed recipe's ensemble of one-vs-rest binary networks as one multi-output module."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class OneVsRest(nn.Module):
    """``n`` binary networks (2 logits each) as one module with ``n`` outputs: ``logit_pos - logit_neg``."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [member(x) for member in self.members]
        return torch.stack([o[:, 1] - o[:, 0] if o.shape[1] == 2 else o[:, 0] for o in outs], dim=1)
