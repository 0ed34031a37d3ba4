"""The fitted ensemble as one object, saved into (and loaded from) the ``ensemble/`` folder of a model bundle.

Layout::

    BUNDLE/ensemble/
      ensemble.json        stacker, calibrators, thresholds, assessment, feature layout, choice and figures
      boosting.npz         the boosting models' trees (NumPy arrays)

The bundle's ``manifest.json`` gets the key ``"ensemble": "ensemble"`` (the folder name) when it is added.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.ensemble.assessment import ClassAssessment
from cardioscreen.ensemble.boosting import SubspaceBoosting
from cardioscreen.ensemble.calibration import PerClassCalibrator
from cardioscreen.ensemble.stacking import Stacker
from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import Bundle

FOLDER = "ensemble"
DESCRIPTION = "ensemble.json"
MANIFEST_KEY = "ensemble"
OUTPUTS = ("network", "ensemble")
"""The outputs an ensemble can report."""


@dataclass
class EnsembleModel:
    """Boosting + stacking + calibration, and which of network and ensemble is the default.

    Attributes
    ----------
    boosting : SubspaceBoosting
        Fitted on ``[embedding, features]`` of training records.
    stacker : Stacker
        Combines network and boosting probabilities (fitted on validation records).
    calibrators : dict
        ``"network"`` and ``"ensemble"``: :class:`PerClassCalibrator` fitted on validation records.
    thresholds : dict
        ``"network"`` and ``"ensemble"``: ``(C,)`` thresholds on calibrated probabilities (validation records).
    assessment : dict
        ``"network"`` and ``"ensemble"``: per class, a :class:`ClassAssessment` (is it assessed, and why not).
    defaults : dict
        Task -> ``"ensemble"`` or ``"network"``: the output reported for that task's classes (the stack where its
        paired 90 % interval of fold-9 macro-AUC gain over the network lay above zero).
    column_tasks : tuple of str
        ``(C,)`` the task of each output column (the bundle's label order).
    feature_names : list of str
        Hand-made feature columns that follow the embedding.
    embedding_dim : int
        Width of the network embedding.
    measurement_names : list of str
        Clinical measurement columns (:mod:`cardioscreen.ensemble.measurements`) that follow the features; empty
        for an ensemble fitted without them.
    report : dict
        Figures measured when it was fitted.
    """

    boosting: SubspaceBoosting
    stacker: Stacker
    calibrators: dict[str, PerClassCalibrator]
    thresholds: dict[str, np.ndarray]
    assessment: dict[str, tuple[ClassAssessment, ...]]
    defaults: dict[str, str]
    column_tasks: tuple[str, ...]
    feature_names: list[str]
    embedding_dim: int
    measurement_names: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = {v for v in self.defaults.values() if v not in OUTPUTS} | (set(self.column_tasks)
                                                                             - set(self.defaults))
        if unknown:
            raise CardioScreenError(f"ensemble defaults name unknown outputs or miss tasks: {sorted(unknown)}")

    @property
    def column_outputs(self) -> np.ndarray:
        """``(C,)`` str: the default output of each column (that of its task)."""
        return np.array([self.defaults[task] for task in self.column_tasks])

    @property
    def uses_ensemble(self) -> bool:
        """Whether the stack is the default of some task (its inputs then include the hand-made features)."""
        return "ensemble" in self.defaults.values()

    @property
    def default(self) -> str:
        """The output the analysis uses: ``"ensemble"`` or ``"network"`` when all tasks agree, else each task's
        (``"seed17: ensemble, superdiagnostic: network"``)."""
        chosen = set(self.defaults.values())
        if len(chosen) == 1:
            return chosen.pop()
        return ", ".join(f"{task}: {output}" for task, output in self.defaults.items())

    def _per_column(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """Column j of ``values[output of column j]``; ``values`` maps outputs to arrays ``(..., C)`` (only those
        some column uses need be there)."""
        outputs = self.column_outputs
        used = set(outputs.tolist())
        if len(used) == 1:
            return np.array(values[used.pop()])
        return np.where(outputs == "ensemble", values["ensemble"], values["network"])

    def predict(self, net_probs: np.ndarray, embeddings: np.ndarray, features: np.ndarray,
                which: str | None = None) -> np.ndarray:
        """Calibrated probabilities ``(n, C)`` of ``which`` output (default: each task's default), in the reported
        range. ``features`` ``(n, F + M)``: the hand-made features, then the measurements (see
        :meth:`hand_made`)."""
        if which is None:
            wanted = set(self.column_outputs.tolist())
            return self._per_column({k: self.predict(net_probs, embeddings, features, k) for k in wanted})
        if which == "network":
            return self.calibrators["network"].transform(net_probs)
        if which != "ensemble":
            raise CardioScreenError(f"unknown ensemble output {which!r}; choose 'network' or 'ensemble'")
        boost = self.boosting.predict_proba(np.hstack([embeddings, features]))
        return self.calibrators["ensemble"].transform(self.stacker.predict_proba([net_probs, boost]))

    def hand_made(self, features: np.ndarray, measurements: np.ndarray | None) -> np.ndarray:
        """The boosting's inputs after the embedding, ``(n, F + M)``: record features ``(n, F)`` and, for an
        ensemble fitted with measurements, their rows ``(n, M)`` (None: not measured, all NaN); an ensemble fitted
        without them takes the features alone."""
        width = len(self.measurement_names)
        if not width:
            return features
        if measurements is None:
            measurements = np.full((len(features), width), np.nan)
        if measurements.shape != (len(features), width):
            raise CardioScreenError(f"measurements of shape {measurements.shape}; the ensemble takes "
                                    f"{(len(features), width)}")
        return np.hstack([features, measurements])

    def predict_records(self, bundle: Bundle, x: np.ndarray, which: str | None = None,
                        measurements: np.ndarray | None = None,
                        r_peaks: Sequence[np.ndarray | None] | None = None) -> np.ndarray:
        """Calibrated probabilities ``(n, C)`` of normalised records ``x`` ``(n, 12, samples)`` of ``bundle``;
        ``measurements`` ``(n, M)`` (None: not measured, NaN), ``r_peaks`` their measured R-peaks at the input's
        rate (None: found on ``x``)."""
        from cardioscreen.ensemble.inputs import network_outputs, record_feature_matrix

        probs, embeddings = network_outputs(bundle, x)
        if which == "network" or (which is None and not self.uses_ensemble):
            return self.predict(probs, embeddings, np.zeros((len(x), 0)), "network")
        spec = bundle.input_spec
        features, _ = record_feature_matrix(x, spec.fs, spec.leads, width=len(self.feature_names), r_peaks=r_peaks)
        return self.predict(probs, embeddings, self.hand_made(features, measurements), which)

    def thresholds_for(self, which: str | None = None) -> np.ndarray:
        """Per-class thresholds ``(C,)`` on the calibrated probabilities of ``which`` output (default: each
        task's)."""
        return self.thresholds[which] if which else self._per_column(self.thresholds)

    def assessment_for(self, which: str | None = None) -> tuple[ClassAssessment, ...]:
        """Per-class assessment of ``which`` output (default: each task's)."""
        if which:
            return self.assessment[which]
        return tuple(self.assessment[k][j] for j, k in enumerate(self.column_outputs))


def save_ensemble(model: EnsembleModel, bundle: str | Path) -> Path:
    """Write ``model`` into ``bundle/ensemble`` and register it in the bundle manifest; returns the folder."""
    bundle = Path(bundle)
    manifest_path = bundle / "manifest.json"
    if not manifest_path.is_file():
        raise CardioScreenError(f"{bundle} is not a model bundle: manifest.json is missing")
    folder = bundle / FOLDER
    description = {
        "boosting": model.boosting.save(folder),
        "stacker": model.stacker.to_dict(),
        "calibrators": {k: c.to_dict() for k, c in model.calibrators.items()},
        "thresholds": {k: [float(t) for t in v] for k, v in model.thresholds.items()},
        "assessment": {k: [c.to_dict() for c in v] for k, v in model.assessment.items()},
        "defaults": model.defaults,
        "column_tasks": list(model.column_tasks),
        "feature_names": model.feature_names,
        "embedding_dim": model.embedding_dim,
        "measurement_names": model.measurement_names,
        "report": model.report,
    }
    (folder / DESCRIPTION).write_text(json.dumps(description, indent=1, allow_nan=True) + "\n")
    manifest = json.loads(manifest_path.read_text())
    manifest[MANIFEST_KEY] = FOLDER
    manifest_path.write_text(json.dumps(manifest, indent=2, allow_nan=True) + "\n")
    return folder


def load_ensemble(bundle: str | Path) -> EnsembleModel | None:
    """The ensemble of ``bundle``, or None when the bundle has none."""
    bundle = Path(bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    if MANIFEST_KEY not in manifest:
        return None
    folder = bundle / manifest[MANIFEST_KEY]
    data = json.loads((folder / DESCRIPTION).read_text())
    if "assessment" not in data:
        raise CardioScreenError(f"{folder / DESCRIPTION} predates per-class assessment and order-preserving "
                                "calibration; re-fit it with `cardioscreen train-ensemble`")
    column_tasks = tuple(data.get("column_tasks") or (label["task"] for label in manifest["labels"]))
    # before per-task defaults, one choice ("use_ensemble") held for every task
    defaults = data.get("defaults") or dict.fromkeys(column_tasks, "ensemble" if data["use_ensemble"] else "network")
    return EnsembleModel(
        boosting=SubspaceBoosting.load(folder, data["boosting"]),
        stacker=Stacker.from_dict(data["stacker"]),
        calibrators={k: PerClassCalibrator.from_dict(v) for k, v in data["calibrators"].items()},
        thresholds={k: np.asarray(v, dtype=np.float64) for k, v in data["thresholds"].items()},
        assessment={k: tuple(ClassAssessment.from_dict(c) for c in v) for k, v in data["assessment"].items()},
        defaults=dict(defaults),
        column_tasks=column_tasks,
        feature_names=list(data["feature_names"]),
        embedding_dim=int(data["embedding_dim"]),
        measurement_names=list(data.get("measurement_names", [])),
        report=data.get("report", {}),
    )
