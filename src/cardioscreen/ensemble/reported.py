"""What the model reports: calibrated probabilities in the reported range, flags, and the classes it assesses.

One object, :class:`ReportedOutput`, turns the network's record outputs into what users are shown; the Analyzer
and ``cardioscreen evaluate`` both use it, so the figures ``evaluate`` prints are those of the reported output.
A class that is not assessed (:mod:`cardioscreen.ensemble.assessment`) is never flagged. Leads the quality check
calls unusable (flat, lost or noisy) are left out of the network input (set to 0, the value an empty lead has
after the per-lead z-score, as the lead-dropout augmentation trains it), up to :data:`MAX_LEADS_LEFT_OUT`;
a record with more is not classified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cardioscreen.ensemble.assessment import MIN_TRAIN_POSITIVES, ClassAssessment, manifest_train_positives
from cardioscreen.ensemble.calibration import clip_reported
from cardioscreen.ensemble.inputs import record_feature_matrix
from cardioscreen.ensemble.persist import EnsembleModel, load_ensemble
from cardioscreen.models.bundle import Bundle, InputSpec

MAX_LEADS_LEFT_OUT = 2
"""Most unusable leads a record may have and still be classified (without them)."""

_NOTES: dict[str, dict[str, str]] = {
    "en": {"not_assessed": "not assessed by this model",
           "left_out": "analysed without leads {leads} (unusable: flat, lost or noisy)",
           "refused": "the classifier needs at least {needed} of its {total} leads; unusable (flat, lost or noisy): "
                      "{leads}"},
    "ru": {"not_assessed": "не оценивается этой моделью",
           "left_out": "проанализировано без отведений {leads} (непригодны: прямая линия, потеря сигнала или шум)",
           "refused": "классификатору нужно не меньше {needed} из {total} отведений; непригодны (прямая линия, "
                      "потеря сигнала или шум): {leads}"},
}
"""Caveats shown with predictions, per language."""


def _manifest_assessment(bundle: Bundle) -> tuple[ClassAssessment, ...]:
    """Assessment of a bundle without an ensemble: only the training positives its manifest states are known."""
    positives = manifest_train_positives(bundle.manifest)
    out = []
    for j, label in enumerate(bundle.labels):
        count = -1 if positives is None else int(positives[j])
        reason = "" if positives is None or count >= MIN_TRAIN_POSITIVES else (
            f"{count} training positives (at least {MIN_TRAIN_POSITIVES} needed)")
        out.append(ClassAssessment(label.code, label.task, count, None, None, None, reason))
    return tuple(out)


@dataclass(frozen=True)
class ReportedOutput:
    """The reported output of one bundle.

    Attributes
    ----------
    ensemble : EnsembleModel or None
        The bundle's ensemble (calibration, stacking); None for a bare network. Which of its outputs is reported
        for each task is its :attr:`~cardioscreen.ensemble.persist.EnsembleModel.defaults`.
    bare_thresholds : np.ndarray
        ``(C,)`` the bundle's own thresholds, used without an ensemble.
    bare_assessment : tuple of ClassAssessment
        What the manifest says about each class, used without an ensemble.
    """

    ensemble: EnsembleModel | None
    bare_thresholds: np.ndarray
    bare_assessment: tuple[ClassAssessment, ...]

    @classmethod
    def of(cls, bundle: Bundle) -> ReportedOutput:
        """The reported output of ``bundle``: its ensemble's default output, or the network clipped to the
        reported range with the bundle's thresholds when it has no ensemble."""
        return cls(load_ensemble(bundle.path), bundle.thresholds, _manifest_assessment(bundle))

    @property
    def thresholds(self) -> np.ndarray:
        """``(C,)`` decision thresholds on the reported probabilities."""
        return self.bare_thresholds if self.ensemble is None else self.ensemble.thresholds_for()

    @property
    def assessment(self) -> tuple[ClassAssessment, ...]:
        """Per class: assessed or not, and why."""
        return self.bare_assessment if self.ensemble is None else self.ensemble.assessment_for()

    @property
    def name(self) -> str:
        """``"ensemble"`` (stacked and calibrated), ``"network"`` (calibrated), each task's where they differ
        (``"seed17: ensemble, superdiagnostic: network"``), or ``"raw network"``."""
        return "raw network" if self.ensemble is None else self.ensemble.default

    @property
    def needs_features(self) -> bool:
        """Whether :meth:`probabilities` needs the records' hand-made features (the stacked output does)."""
        return self.ensemble is not None and self.ensemble.uses_ensemble

    @property
    def assessed(self) -> np.ndarray:
        """``(C,)`` bool: the class is assessed (and may be flagged)."""
        return np.array([c.assessed for c in self.assessment], dtype=bool)

    def features(self, x: np.ndarray, spec: InputSpec, measurements: np.ndarray | None,
                 r_peaks: Sequence[np.ndarray | None] | None = None) -> np.ndarray | None:
        """The stack's hand-made inputs ``(n, F + M)`` of normalised records ``x`` ``(n, leads, samples)``: their
        time/frequency features and, for an ensemble fitted with them, their clinical measurement rows
        ``measurements`` ``(n, M)`` (:func:`~cardioscreen.ensemble.measurements.measurement_vector`; None: not
        measured, NaN); ``r_peaks``: each record's measured R-peaks at ``spec.fs`` (see
        :func:`~cardioscreen.ensemble.inputs.record_feature_matrix`). None where the reported output does not use
        the stack."""
        if not self.needs_features or self.ensemble is None:
            return None
        features, _ = record_feature_matrix(x, spec.fs, spec.leads, width=len(self.ensemble.feature_names),
                                            r_peaks=r_peaks)
        return self.ensemble.hand_made(features, measurements)

    def probabilities(self, network: np.ndarray, embeddings: np.ndarray, features: np.ndarray | None = None
                      ) -> np.ndarray:
        """Reported probabilities ``(n, C)`` from the network's record probabilities ``(n, C)``, its record
        embeddings ``(n, D)`` and, for the stacked output, the hand-made inputs ``(n, F + M)``
        (:meth:`features`)."""
        if self.ensemble is None:
            return clip_reported(network)
        if features is None:
            features = np.zeros((len(network), 0))
        return self.ensemble.predict(network, embeddings, features)

    def flags(self, probabilities: np.ndarray) -> np.ndarray:
        """Bool, shape of ``probabilities``: at or above the threshold, for assessed classes only."""
        return np.asarray((probabilities >= self.thresholds) & self.assessed)


def prediction_note(assessed: bool, flagged: bool, left_out: Sequence[str], lang: str = "en") -> str:
    """The caveat of one prediction: "not assessed by this model", or on a flag of a record analysed without
    its unusable leads, which leads were left out; empty otherwise."""
    if not assessed:
        return _NOTES[lang]["not_assessed"]
    return _NOTES[lang]["left_out"].format(leads=", ".join(left_out)) if flagged and left_out else ""


def too_many_left_out(left_out: Sequence[str], model_leads: Sequence[str], lang: str = "en") -> str | None:
    """Why a record is not classified (more than :data:`MAX_LEADS_LEFT_OUT` unusable leads), or None."""
    if len(left_out) <= MAX_LEADS_LEFT_OUT:
        return None
    return _NOTES[lang]["refused"].format(needed=len(model_leads) - MAX_LEADS_LEFT_OUT, total=len(model_leads),
                                          leads=", ".join(left_out))


def leads_left_out(unusable: Sequence[str], model_leads: Sequence[str]) -> tuple[str, ...]:
    """The model's input leads among the ``unusable`` ones, in the model's order."""
    return tuple(lead for lead in model_leads if lead in set(unusable))


def without_leads(x: np.ndarray, model_leads: Sequence[str], left_out: Sequence[str]) -> np.ndarray:
    """Copy of the network input ``x`` ``(leads, samples)`` with the ``left_out`` leads set to 0."""
    out = np.array(x, copy=True)
    out[[list(model_leads).index(lead) for lead in left_out]] = 0.0
    return out
