"""Neural networks: a registry (``create_model``, ``list_models``), layers and the model bundle."""

from cardioscreen.models.registry import create_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model"]
