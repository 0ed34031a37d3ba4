import torch

from cardioscreen.models.one_vs_rest import OneVsRest
from cardioscreen.models.registry import create_model


class TestOneVsRest:
    def test_stages_compose_to_each_members_positive_logit(self):
        torch.manual_seed(0)
        members = [create_model("se_ecgnet", num_classes=2).eval() for _ in range(3)]
        combined = OneVsRest(members).eval()
        x = torch.randn(2, 12, 1000)
        with torch.no_grad():
            expected = torch.stack([m(x)[:, 1] - m(x)[:, 0] for m in members], dim=1)
            features = combined.forward_features(x)
            torch.testing.assert_close(combined(x), expected)
            torch.testing.assert_close(combined.forward_head(features), expected)
        assert features.shape[0] == 2 and features.shape[1] % 3 == 0
