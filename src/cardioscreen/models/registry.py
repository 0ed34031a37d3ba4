"""Model registry in the style of timm: ``@register_model`` factories, ``create_model``, ``list_models``.

Every registered network takes ``num_classes`` and ``in_channels`` (number of leads) keyword arguments and
exposes ``forward_features(x) -> (B, D)`` (the embedding the boosting stage uses), ``forward_head(feat) -> logits``
and ``forward(x) = forward_head(forward_features(x))``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

from cardioscreen.errors import CardioScreenError

_MODEL_MODULES = ("se_ecgnet_seed", "se_ecgnet", "reference", "convnext1d")
_REGISTRY: dict[str, Callable[..., nn.Module]] = {}

F = TypeVar("F", bound=Callable[..., nn.Module])


def register_model(fn: F) -> F:
    """Register ``fn`` (a factory returning an ``nn.Module``) under its function name."""
    name = fn.__name__
    if name in _REGISTRY and _REGISTRY[name] is not fn:
        raise CardioScreenError(f"model {name!r} is registered twice")
    _REGISTRY[name] = fn
    return fn


def _load_all() -> None:
    for module in _MODEL_MODULES:
        importlib.import_module(f"cardioscreen.models.{module}")


def list_models() -> list[str]:
    """Names of all registered models, sorted."""
    _load_all()
    return sorted(_REGISTRY)


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build the registered model ``name`` with ``kwargs`` (e.g. ``num_classes``, ``in_channels``, widths)."""
    _load_all()
    if name not in _REGISTRY:
        raise CardioScreenError(f"unknown model {name!r}; registered models: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**kwargs)
