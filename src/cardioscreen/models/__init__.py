"""Neural networks: a registry (``create_model``, ``list_models``), layers and the model bundle.

The registry's names are loaded on first use (PEP 562), so that reading a bundle's manifest for the ONNX fast
path does not import PyTorch.
"""

from typing import Any

__all__ = ["create_model", "list_models", "register_model"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from cardioscreen.models import registry

        return getattr(registry, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
