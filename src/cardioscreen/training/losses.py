"""Losses for imbalanced, partly labelled ECG classification: focal loss and weighted binary cross-entropy.

Both work element-wise on logits; ``targets`` are 0/1 floats of the same shape (multi-label or one binary
output), or, for a two-logit binary head, integer class indices ``(B,)``. ``mask`` (same shape as the element-wise
loss; 1 = label known, 0 = unknown) removes unknown labels: the ``"mean"`` reduction averages over known labels
only; ``reduction="none"`` returns the element-wise loss with masked entries set to zero.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

_REDUCTIONS: dict[str, Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]] = {
    "none": lambda loss, mask: loss if mask is None else loss * mask,
    "sum": lambda loss, mask: (loss if mask is None else loss * mask).sum(),
    "mean": lambda loss, mask: loss.mean() if mask is None else (loss * mask).sum() / mask.sum().clamp_min(1.0),
}


def _reduce(loss: torch.Tensor, mask: torch.Tensor | None, reduction: str) -> torch.Tensor:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; choose one of {', '.join(_REDUCTIONS)}")
    if mask is not None:
        mask = mask.to(loss.dtype)
        if mask.shape != loss.shape:
            raise ValueError(f"mask shape {tuple(mask.shape)} differs from the loss shape {tuple(loss.shape)}")
    return _REDUCTIONS[reduction](loss, mask)


def _two_logit(logits: torch.Tensor, targets: torch.Tensor) -> bool:
    return logits.ndim == 2 and logits.shape[1] == 2 and targets.ndim == 1 and not targets.is_floating_point()


def focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    gamma: float = 2.0,
    alpha: float | None = None,
    mask: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Focal loss (Lin et al. 2017): ``-alpha_t (1 - p_t) ** gamma * log(p_t)``.

    Parameters
    ----------
    logits : torch.Tensor
        ``(B, C)`` (or any shape) sigmoid logits; or ``(B, 2)`` softmax logits of a binary head.
    targets : torch.Tensor
        0/1 floats shaped like ``logits``; or class indices ``(B,)`` (int) for a ``(B, 2)`` head.
    gamma : float
        Focusing parameter (0 gives cross-entropy; the prototype used 1.8).
    alpha : float, optional
        Weight of the positive class (``1 - alpha`` for negatives); ``None`` weighs both 1.
    mask : torch.Tensor, optional
        1 where the label is known, 0 where unknown; shaped like the element-wise loss.
    reduction : {"mean", "sum", "none"}
        How to reduce the element-wise loss.

    Returns
    -------
    torch.Tensor
        Scalar, or the element-wise loss for ``reduction="none"`` (``(B,)`` for a two-logit head).
    """
    if gamma < 0:
        raise ValueError(f"focal loss gamma must be >= 0, got {gamma}")
    if _two_logit(logits, targets):
        log_pt = F.log_softmax(logits, dim=1).gather(1, targets[:, None]).squeeze(1)
        positive = targets.to(logits.dtype)
    else:
        targets = targets.to(logits.dtype)
        if targets.shape != logits.shape:
            raise ValueError(f"targets shape {tuple(targets.shape)} differs from logits {tuple(logits.shape)}")
        log_pt = -F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        positive = targets
    loss = -((1.0 - log_pt.exp()) ** gamma) * log_pt
    if alpha is not None:
        loss = loss * (alpha * positive + (1.0 - alpha) * (1.0 - positive))
    return _reduce(loss, mask, reduction)


def bce(
    logits: torch.Tensor,
    targets: torch.Tensor,
    pos_weight: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Binary cross-entropy on logits with optional per-class positive weights and a known-label mask.

    Parameters
    ----------
    logits, targets : torch.Tensor
        ``(B, C)`` logits and 0/1 targets.
    pos_weight : torch.Tensor, optional
        ``(C,)`` weight of the positive term per class (e.g. ``n_negative / n_positive``).
    mask : torch.Tensor, optional
        1 where the label is known, 0 where unknown.
    reduction : {"mean", "sum", "none"}
        How to reduce the element-wise loss.
    """
    targets = targets.to(logits.dtype)
    loss = F.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight, reduction="none")
    return _reduce(loss, mask, reduction)


def class_pos_weight(targets: torch.Tensor, mask: torch.Tensor | None = None, cap: float = 100.0) -> torch.Tensor:
    """``n_negative / n_positive`` per class over known labels (``(B, C)`` -> ``(C,)``), capped at ``cap``."""
    known = torch.ones_like(targets) if mask is None else mask.to(targets.dtype)
    pos = (targets * known).sum(0)
    neg = ((1 - targets) * known).sum(0)
    return (neg / pos.clamp_min(1.0)).clamp(max=cap)
