"""The model bundle: one directory holding everything needed to use a trained model, loaded by one call.

Layout::

    BUNDLE/
      manifest.json        model config, labels, thresholds, input spec, training config, metrics, version
      model.safetensors    network weights
      metrics.jsonl        per-epoch training log (optional)
      ensemble/            added by the ensemble stage (boosting, calibration), named by manifest["ensemble"]

``manifest["model"]`` is ``{"name": <registry name>, "kwargs": {...}}``; with ``"one_vs_rest": n`` it is ``n``
binary networks of that kind (the seed recipe), combined by :class:`OneVsRest` into one ``(batch, n)`` output.
Every network outputs logits; ``sigmoid`` of a column is the probability of that label.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cardioscreen import __version__
from cardioscreen.errors import CardioScreenError

if TYPE_CHECKING:
    from torch import nn

MANIFEST = "manifest.json"
WEIGHTS = "model.safetensors"
BUNDLE_FORMAT = "cardioscreen-bundle"
BUNDLE_FORMAT_VERSION = 1
INPUT_KINDS = ("record", "beats")
_AGGREGATE: dict[str, Callable[..., np.ndarray]] = {"mean": np.mean, "max": np.max}
AGGREGATIONS = tuple(_AGGREGATE)
_CORE_KEYS = frozenset(
    {
        "format",
        "format_version",
        "package_version",
        "model",
        "labels",
        "thresholds",
        "input_spec",
        "training",
        "metrics",
        "n_parameters",
    }
)
"""Manifest keys written by :func:`save_bundle`; later stages add their own keys beside them."""


@dataclass(frozen=True)
class InputSpec:
    """What the network expects.

    Attributes
    ----------
    fs : float
        Sampling rate (Hz) of the network input.
    samples : int
        Samples per input window (or per beat for ``kind="beats"``).
    recipe : str
        Normalisation recipe applied to the record first (:mod:`cardioscreen.datasets.preprocess`).
    leads : tuple of str
        Lead order of the input rows.
    kind : str
        ``"record"``: windows of ``samples`` over the normalised record; ``"beats"``: one input per beat.
    stride : int
        Step (samples) between windows of a longer record.
    aggregate : str
        How window/beat outputs combine into a record score: ``"mean"`` or ``"max"`` (of probabilities).
    """

    fs: float
    samples: int
    recipe: str
    leads: tuple[str, ...]
    kind: str = "record"
    stride: int = 0
    aggregate: str = "mean"

    def __post_init__(self) -> None:
        if self.fs <= 0 or self.samples <= 0:
            raise CardioScreenError(f"input spec needs positive fs and samples, got {self.fs}, {self.samples}")
        if self.kind not in INPUT_KINDS:
            raise CardioScreenError(f"input kind {self.kind!r} is not one of {INPUT_KINDS}")
        if self.aggregate not in AGGREGATIONS:
            raise CardioScreenError(f"aggregation {self.aggregate!r} is not one of {AGGREGATIONS}")
        object.__setattr__(self, "leads", tuple(self.leads))
        object.__setattr__(self, "stride", int(self.stride) or int(self.samples))

    def aggregate_outputs(self, scores: np.ndarray) -> np.ndarray:
        """One record's scores from its windows' or beats' scores ``(n_inputs, labels)``, by :attr:`aggregate`."""
        return np.asarray(_AGGREGATE[self.aggregate](scores, axis=0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "fs": self.fs,
            "samples": self.samples,
            "recipe": self.recipe,
            "leads": list(self.leads),
            "kind": self.kind,
            "stride": self.stride,
            "aggregate": self.aggregate,
        }


@dataclass(frozen=True)
class Label:
    """One output of the network: an SCP code (or superclass) and the task it belongs to."""

    code: str
    task: str


def build_model(model_config: Mapping[str, Any]) -> nn.Module:
    """The (untrained) network described by ``manifest["model"]``."""
    from cardioscreen.models.registry import create_model

    name, kwargs = model_config["name"], dict(model_config.get("kwargs", {}))
    n = model_config.get("one_vs_rest")
    if n:
        from cardioscreen.models.one_vs_rest import OneVsRest

        return OneVsRest([create_model(name, **kwargs) for _ in range(int(n))])
    return create_model(name, **kwargs)


@dataclass(frozen=True)
class Bundle:
    """A loaded bundle. ``model`` (the PyTorch network, eval mode, CPU) is built on first use, so that the ONNX
    fast path never imports PyTorch."""

    path: Path
    labels: tuple[Label, ...]
    thresholds: np.ndarray
    input_spec: InputSpec
    metrics: dict[str, Any]
    manifest: dict[str, Any] = field(repr=False)

    @cached_property
    def model(self) -> nn.Module:
        """The network with the bundle's weights; a clear error when the weights do not fit its config."""
        from safetensors.torch import load_file

        model = build_model(self.manifest["model"])
        name = self.manifest["model"]["name"]
        try:
            missing, unexpected = model.load_state_dict(load_file(str(self.path / WEIGHTS)), strict=False)
        except RuntimeError as exc:  # tensor shapes differ from the model config
            raise CardioScreenError(f"bundle {self.path}: weights do not fit {name}: {exc}") from exc
        if missing or unexpected:
            raise CardioScreenError(
                f"bundle {self.path}: weights do not fit {name} (missing {missing[:3]}, unexpected {unexpected[:3]})"
            )
        return model.eval()

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(label.code for label in self.labels)

    def task_columns(self, task: str) -> np.ndarray:
        """Output columns belonging to ``task``."""
        return np.array([i for i, label in enumerate(self.labels) if label.task == task], dtype=np.int64)

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(label.task for label in self.labels))

    def predict_proba(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Probabilities ``(n, n_labels)`` for network inputs ``x`` of shape ``(n, leads, samples)``."""
        import torch

        out = []
        for start in range(0, len(x), batch_size):
            batch = torch.from_numpy(np.ascontiguousarray(x[start : start + batch_size], dtype=np.float32))
            with torch.no_grad():
                out.append(torch.sigmoid(self.model(batch)).numpy())
        return np.concatenate(out) if out else np.zeros((0, len(self.labels)), dtype=np.float32)


def save_bundle(
    path: str | Path,
    model: nn.Module,
    *,
    model_config: Mapping[str, Any],
    labels: Sequence[Label],
    thresholds: Sequence[float] | np.ndarray,
    input_spec: InputSpec,
    training_config: Mapping[str, Any],
    metrics: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model`` and its description into the bundle directory ``path`` (created; files replaced).

    ``extra`` adds top-level manifest keys (e.g. ``"ensemble"``); it cannot replace the keys written here.
    """
    path = Path(path)
    if len(thresholds) != len(labels):
        raise CardioScreenError(f"{len(thresholds)} thresholds for {len(labels)} labels")
    from safetensors.torch import save_file
    from torch.nn.parallel import DistributedDataParallel

    path.mkdir(parents=True, exist_ok=True)
    module = model.module if isinstance(model, DistributedDataParallel) else model
    state = {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}
    save_file(state, str(path / WEIGHTS))
    manifest: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "package_version": __version__,
        "model": dict(model_config),
        "labels": [{"code": label.code, "task": label.task} for label in labels],
        "thresholds": [float(t) for t in thresholds],
        "input_spec": input_spec.to_dict(),
        "training": dict(training_config),
        "metrics": dict(metrics),
        "n_parameters": int(sum(p.numel() for p in module.parameters())),
    }
    for key, value in (extra or {}).items():
        if key in _CORE_KEYS:
            raise CardioScreenError(f"extra manifest key {key!r} would replace a bundle key")
        manifest[key] = value
    (path / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=True) + "\n")
    return path


def add_to_manifest(path: str | Path, key: str, value: Any) -> None:
    """Set the top-level manifest key ``key`` of the bundle at ``path`` (e.g. ``"ensemble"`` naming the
    ``ensemble/`` subfolder a later stage wrote); the keys written by :func:`save_bundle` cannot be replaced."""
    if key in _CORE_KEYS:
        raise CardioScreenError(f"manifest key {key!r} belongs to the bundle itself and cannot be replaced")
    manifest = read_manifest(path)
    manifest[key] = value
    (Path(path) / MANIFEST).write_text(json.dumps(manifest, indent=2, allow_nan=True) + "\n")


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of the bundle at ``path``."""
    manifest_path = Path(path) / MANIFEST
    if not manifest_path.is_file():
        raise CardioScreenError(f"{path} is not a model bundle: {MANIFEST} is missing")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    if manifest.get("format") != BUNDLE_FORMAT:
        raise CardioScreenError(f"{manifest_path} is not a {BUNDLE_FORMAT} manifest")
    return manifest


def load_bundle(path: str | Path, *, lazy_model: bool = False) -> Bundle:
    """Load the bundle directory ``path``: labels, thresholds, input spec, metrics and the network.

    The network (eval mode, CPU) is built and its weights checked now, or with ``lazy_model`` on first use of
    ``bundle.model`` (the ONNX fast path needs only the bundle's ``model.onnx``).
    """
    path = Path(path)
    manifest = read_manifest(path)
    if not (path / WEIGHTS).is_file():
        raise CardioScreenError(f"bundle {path} has no {WEIGHTS}")
    bundle = Bundle(
        path=path,
        labels=tuple(Label(**label) for label in manifest["labels"]),
        thresholds=np.asarray(manifest["thresholds"], dtype=np.float64),
        input_spec=InputSpec(**{**manifest["input_spec"], "leads": tuple(manifest["input_spec"]["leads"])}),
        metrics=manifest.get("metrics", {}),
        manifest=manifest,
    )
    if not lazy_model:
        _ = bundle.model
    return bundle


DERIVED_SUFFIXES = (".onnx", ".onnx.json")
"""Files a bundle caches from its weights (the ONNX graph and its stamp): left out of :func:`content_hash`."""
HASH_LENGTH = 12


def content_hash(path: str | Path) -> str:
    """The bundle's version: the first :data:`HASH_LENGTH` hex digits of the SHA-256 over every file of the bundle
    folder ``path`` (relative name and bytes, sorted by name) except the derived ONNX cache, so that two copies of
    one bundle share a version and any change to weights, manifest or ensemble gives a new one."""
    root = Path(path)
    read_manifest(root)
    digest = hashlib.sha256()
    for file in sorted(f for f in root.rglob("*") if f.is_file() and not f.name.endswith(DERIVED_SUFFIXES)):
        digest.update(file.relative_to(root).as_posix().encode() + b"\0")
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()[:HASH_LENGTH]


def default_bundle_path() -> Path:
    """The shipped default bundle inside the package (``cardioscreen/data/model``)."""
    return Path(__file__).resolve().parents[1] / "data" / "model"
