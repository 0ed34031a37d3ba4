"""The fitted ensemble as one object, saved into (and loaded from) the ``ensemble/`` folder of a model bundle.

Layout::

    BUNDLE/ensemble/
      ensemble.json        stacker, calibrators, thresholds, assessment, feature layout, choice and figures
      boosting.npz         the boosting models' trees (NumPy arrays)

The bundle's ``manifest.json`` gets the key ``"ensemble": "ensemble"`` (the folder name) when it is added.
"""

from __future__ import annotations

import json
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
    use_ensemble : bool
        True when the ensemble beat the network alone on the validation macro-AUC.
    feature_names : list of str
        Hand-made feature columns that follow the embedding.
    embedding_dim : int
        Width of the network embedding.
    report : dict
        Figures measured when it was fitted.
    """

    boosting: SubspaceBoosting
    stacker: Stacker
    calibrators: dict[str, PerClassCalibrator]
    thresholds: dict[str, np.ndarray]
    assessment: dict[str, tuple[ClassAssessment, ...]]
    use_ensemble: bool
    feature_names: list[str]
    embedding_dim: int
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def default(self) -> str:
        """``"ensemble"`` or ``"network"``: the output the analysis should use."""
        return "ensemble" if self.use_ensemble else "network"

    def predict(self, net_probs: np.ndarray, embeddings: np.ndarray, features: np.ndarray,
                which: str | None = None) -> np.ndarray:
        """Calibrated probabilities ``(n, C)`` of ``which`` output (default: :attr:`default`), in the reported
        range."""
        which = which or self.default
        if which == "network":
            return self.calibrators["network"].transform(net_probs)
        if which != "ensemble":
            raise CardioScreenError(f"unknown ensemble output {which!r}; choose 'network' or 'ensemble'")
        boost = self.boosting.predict_proba(np.hstack([embeddings, features]))
        return self.calibrators["ensemble"].transform(self.stacker.predict_proba([net_probs, boost]))

    def predict_records(self, bundle: Bundle, x: np.ndarray, which: str | None = None) -> np.ndarray:
        """Calibrated probabilities ``(n, C)`` of normalised records ``x`` ``(n, 12, samples)`` of ``bundle``."""
        from cardioscreen.ensemble.inputs import network_outputs, record_feature_matrix

        probs, embeddings = network_outputs(bundle, x)
        if (which or self.default) == "network":
            return self.predict(probs, embeddings, np.zeros((len(x), 0)), "network")
        spec = bundle.input_spec
        features, _ = record_feature_matrix(x, spec.fs, spec.leads, width=len(self.feature_names))
        return self.predict(probs, embeddings, features, which)

    def thresholds_for(self, which: str | None = None) -> np.ndarray:
        """Per-class thresholds ``(C,)`` on the calibrated probabilities of ``which`` output."""
        return self.thresholds[which or self.default]

    def assessment_for(self, which: str | None = None) -> tuple[ClassAssessment, ...]:
        """Per-class assessment of ``which`` output."""
        return self.assessment[which or self.default]


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
        "use_ensemble": model.use_ensemble,
        "feature_names": model.feature_names,
        "embedding_dim": model.embedding_dim,
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
    return EnsembleModel(
        boosting=SubspaceBoosting.load(folder, data["boosting"]),
        stacker=Stacker.from_dict(data["stacker"]),
        calibrators={k: PerClassCalibrator.from_dict(v) for k, v in data["calibrators"].items()},
        thresholds={k: np.asarray(v, dtype=np.float64) for k, v in data["thresholds"].items()},
        assessment={k: tuple(ClassAssessment.from_dict(c) for c in v) for k, v in data["assessment"].items()},
        use_ensemble=bool(data["use_ensemble"]),
        feature_names=list(data["feature_names"]),
        embedding_dim=int(data["embedding_dim"]),
        report=data.get("report", {}),
    )
