"""Focal loss and weighted BCE against hand computations."""

from __future__ import annotations

import math

import pytest
import torch

from cardioscreen.training.losses import bce, class_pos_weight, focal_loss


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


class TestFocalLoss:
    def test_binary_hand_computation(self) -> None:
        logits = torch.tensor([[2.0], [-1.0]])
        targets = torch.tensor([[1.0], [1.0]])
        gamma, alpha = 1.8, 0.25
        expected = [-alpha * (1 - _sigmoid(z)) ** gamma * math.log(_sigmoid(z)) for z in (2.0, -1.0)]
        got = focal_loss(logits, targets, gamma=gamma, alpha=alpha, reduction="none")
        torch.testing.assert_close(got, torch.tensor([[expected[0]], [expected[1]]]), rtol=1e-6, atol=1e-7)

    def test_negative_label_uses_one_minus_p(self) -> None:
        z, gamma, alpha = 0.7, 2.0, 0.25
        p = _sigmoid(z)
        expected = -(1 - alpha) * p**gamma * math.log(1 - p)
        got = focal_loss(torch.tensor([z]), torch.tensor([0.0]), gamma=gamma, alpha=alpha)
        assert float(got) == pytest.approx(expected, rel=1e-6)

    def test_two_logit_head(self) -> None:
        logits = torch.tensor([[0.5, 1.5], [2.0, -1.0]])
        targets = torch.tensor([1, 1])
        gamma = 1.8
        expected = []
        for a, b in logits.tolist():
            p1 = math.exp(b) / (math.exp(a) + math.exp(b))
            expected.append(-((1 - p1) ** gamma) * math.log(p1))
        got = focal_loss(logits, targets, gamma=gamma, reduction="none")
        torch.testing.assert_close(got, torch.tensor(expected), rtol=1e-6, atol=1e-7)

    def test_gamma_zero_is_bce(self) -> None:
        g = torch.Generator().manual_seed(0)
        logits, targets = torch.randn(8, 5, generator=g), (torch.rand(8, 5, generator=g) > 0.5).float()
        torch.testing.assert_close(focal_loss(logits, targets, gamma=0.0), bce(logits, targets))

    def test_mask_drops_unknown_labels(self) -> None:
        logits = torch.tensor([[1.0, -2.0], [0.5, 3.0]])
        targets = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        mask = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
        full = focal_loss(logits, targets, gamma=1.8, reduction="none")
        expected = (full[0, 0] + full[1, 0] + full[1, 1]) / 3
        torch.testing.assert_close(focal_loss(logits, targets, gamma=1.8, mask=mask), expected)

    def test_focusing_downweights_easy_examples(self) -> None:
        easy, hard = torch.tensor([4.0]), torch.tensor([-1.0])
        y = torch.tensor([1.0])
        ratio_focal = float(focal_loss(easy, y, gamma=2.0) / focal_loss(hard, y, gamma=2.0))
        ratio_bce = float(bce(easy, y) / bce(hard, y))
        assert ratio_focal < ratio_bce / 10


class TestBCE:
    def test_pos_weight_hand_computation(self) -> None:
        logits = torch.tensor([[0.3, -0.4]])
        targets = torch.tensor([[1.0, 0.0]])
        pos_weight = torch.tensor([3.0, 5.0])
        expected = (-3.0 * math.log(_sigmoid(0.3)) - math.log(1 - _sigmoid(-0.4))) / 2
        assert float(bce(logits, targets, pos_weight=pos_weight)) == pytest.approx(expected, rel=1e-6)

    def test_class_pos_weight(self) -> None:
        targets = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
        mask = torch.tensor([[1.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
        torch.testing.assert_close(class_pos_weight(targets, mask), torch.tensor([3.0, 0.5]))

    def test_bad_reduction(self) -> None:
        with pytest.raises(ValueError, match="mean"):
            bce(torch.zeros(2), torch.zeros(2), reduction="avg")
