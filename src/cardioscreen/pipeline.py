"""The Analyzer: one object from an ECG file to a calibrated, explained result.

``record -> 12 standard leads -> clean signal, R-peaks, quality verdict, intervals (one measure_record) -> model
input windows -> probabilities -> calibration -> flags (+ saliency)``. A bundle is loaded once per Analyzer; an
unusable record is refused with the quality reasons instead of probabilities.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen import __version__
from cardioscreen.datasets.preprocess import window_starts, windows
from cardioscreen.ensemble.inputs import peaks_at
from cardioscreen.ensemble.measurements import measurement_vector
from cardioscreen.ensemble.persist import EnsembleModel
from cardioscreen.ensemble.reported import (
    ReportedOutput,
    leads_left_out,
    prediction_note,
    too_many_left_out,
    without_leads,
)
from cardioscreen.errors import CardioScreenError
from cardioscreen.explain import attribution_magnitude, integrated_gradients
from cardioscreen.interpret import Interpretation, Statement, interpret
from cardioscreen.io import read_ecg
from cardioscreen.models.bundle import Bundle, content_hash, default_bundle_path, load_bundle, read_manifest
from cardioscreen.record import ECGRecord
from cardioscreen.report.descriptions import LANGUAGES, describe, ui_strings
from cardioscreen.result import AnalysisResult, Prediction
from cardioscreen.rhythm import ecg_rhythm
from cardioscreen.runtime import make_runner
from cardioscreen.signal.delineate import FIDUCIALS
from cardioscreen.signal.measure import RecordMeasurements, measure_record
from cardioscreen.training.inference import record_input


@dataclass(frozen=True)
class AnalyzerConfig:
    """How an Analyzer runs.

    Attributes
    ----------
    backend : str
        Inference engine: ``"onnx"`` (fast path) or ``"torch"``.
    explain : bool
        Compute per-class saliency for flagged classes (needed by reports and the web page).
    lang : str
        Language of class names, the rhythm and the interpretation: ``"en"`` or ``"ru"``.
    translations : tuple of str
        Further languages the rhythm and interpretation are also worded in (``AnalysisResult.translations``).
    powerline_hz : float
        Mains frequency removed by the cleaning filter (50 or 60 Hz).
    threads : int
        Intra-op threads of the inference engine.
    """

    backend: str = "onnx"
    explain: bool = False
    lang: str = "en"
    translations: tuple[str, ...] = ()
    powerline_hz: float = 50.0
    threads: int = 1

    def __post_init__(self) -> None:
        for lang in (self.lang, *self.translations):
            if lang not in LANGUAGES:
                raise CardioScreenError(f"language {lang!r} is not one of {LANGUAGES}")
        if self.powerline_hz not in (50.0, 60.0):
            raise CardioScreenError(f"powerline frequency must be 50 or 60 Hz, got {self.powerline_hz}")
        if self.threads < 1:
            raise CardioScreenError("threads must be at least 1")


class Analyzer:
    """Analyse records with one loaded model bundle.

    Parameters
    ----------
    bundle : Bundle
        A loaded model bundle (:func:`cardioscreen.models.bundle.load_bundle`).
    config : AnalyzerConfig
        Engine, explanations, language, mains frequency.
    """

    def __init__(self, bundle: Bundle, config: AnalyzerConfig | None = None) -> None:
        self.bundle = bundle
        self.config = config or AnalyzerConfig()
        if bundle.input_spec.kind != "record":
            raise CardioScreenError(
                f"bundle {bundle.path.name} takes {bundle.input_spec.kind!r} inputs; the Analyzer runs record models"
            )
        self._run = make_runner(bundle, self.config.backend, self.config.threads)
        self.output = ReportedOutput.of(bundle)
        self._names = [describe(label.code, self.config.lang)[0] for label in bundle.labels]
        self.model_version = content_hash(bundle.path)

    @classmethod
    def load(cls, bundle_path: str | Path | None = None, config: AnalyzerConfig | None = None) -> Analyzer:
        """An Analyzer for the bundle at ``bundle_path`` (default: the model shipped in the package)."""
        return cls(load_bundle(cls.check_bundle(bundle_path), lazy_model=True), config)

    @staticmethod
    def check_bundle(bundle_path: str | Path | None) -> Path:
        """The bundle folder to use, checked to be one (a clear error before any work starts)."""
        path = Path(bundle_path) if bundle_path is not None else default_bundle_path()
        read_manifest(path)
        return path

    @property
    def ensemble(self) -> EnsembleModel | None:
        """The bundle's ensemble (calibration, stacking), None for a bare network."""
        return self.output.ensemble

    @property
    def thresholds(self) -> np.ndarray:
        """Per-class decision thresholds on the probabilities the Analyzer reports (fitted on validation data)."""
        return self.output.thresholds

    @property
    def model_info(self) -> dict[str, Any]:
        manifest = self.bundle.manifest
        return {
            "name": manifest["model"]["name"],
            "version": manifest.get("package_version", __version__),
            "backend": self.config.backend,
            "bundle": self.bundle.path.name,
            "model_version": self.model_version,
            "n_parameters": manifest.get("n_parameters"),
            "output": self.output.name,
            "calibrated": self.output.ensemble is not None,
            "not_assessed": [{"code": c.code, "task": c.task, "reason": c.reason}
                             for c in self.output.assessment if not c.assessed],
            # F1, sensitivity and specificity were measured at the network's own thresholds: shown only while
            # those are the thresholds in use (AUC does not depend on thresholds or monotone calibration).
            "validation": self._validation(),
        }

    def _validation(self) -> dict[str, Any]:
        """The bundle's headline validation figures per task; with an ensemble, the macro-AUC of the output each
        task reports, as ``train-ensemble`` cross-fitted it on the validation records (the stack's own figure,
        not the network's, where the stack is the default)."""
        ensemble = self.output.ensemble
        summary = _validation_summary(self.bundle.metrics.get("validation", {}),
                                      _SUMMARY_KEYS if ensemble is None else ("macro_auc",))
        if ensemble is not None:
            for task, figures in ensemble.report.get("tasks", {}).items():
                chosen = figures.get(ensemble.defaults.get(task, ""), {})
                if "macro_auc" in chosen:
                    summary.setdefault(task, {}).update(macro_auc=chosen["macro_auc"],
                                                        macro_auc_ci=chosen.get("macro_auc_ci"),
                                                        n_records=figures.get("n_records"))
        return summary

    def analyze_file(self, path: str | Path) -> tuple[ECGRecord, AnalysisResult]:
        """Read ``path`` (any supported format) and analyse it."""
        record = read_ecg(path)
        return record, self.analyze(record, record_id=str(record.meta.get("record_id") or Path(path).stem))

    def analyze(self, record: ECGRecord, record_id: str | None = None) -> AnalysisResult:
        """Analyse one record (any rate, length >= 2 s, at least leads I, II and V1-V6)."""
        std = record.to_standard12()
        name = record_id or str(record.meta.get("record_id", "record"))
        measured = measure_record(std, powerline_hz=self.config.powerline_hz)
        quality, r_peaks, intervals = measured.quality, measured.r_peaks, measured.intervals
        base: dict[str, Any] = {"record": name, "fs": std.fs, "quality": quality.to_dict(), "model": self.model_info}
        refusal = _refusal(quality.verdict, quality.reasons)
        if refusal is not None:
            return AnalysisResult(**base, intervals=None, predictions=(), r_peaks=r_peaks, n_beats=len(r_peaks),
                                  refusal=refusal, **self._worded(partial(_not_interpretable, refusal)))
        spec, lang = self.bundle.input_spec, self.config.lang
        left_out = leads_left_out(quality.unusable_leads, spec.leads)
        refusal = too_many_left_out(left_out, spec.leads, lang)
        if refusal is not None:
            return AnalysisResult(**base, intervals=None, predictions=(), r_peaks=r_peaks, n_beats=len(r_peaks),
                                  refusal=refusal, **self._worded(partial(_not_interpretable, refusal)))
        x = without_leads(record_input(std, spec), spec.leads, left_out)
        inputs = windows(x, spec.samples, spec.stride)
        probabilities = self._probabilities(x, inputs, measured)
        flags = self.output.flags(probabilities)
        assessed, thresholds = self.output.assessed, self.thresholds
        predictions = tuple(
            Prediction(label.code, self._names[i], label.task, float(probabilities[i]),
                       float(thresholds[i]), bool(flags[i]), bool(assessed[i]),
                       prediction_note(bool(assessed[i]), bool(flags[i]), left_out, lang))
            for i, label in enumerate(self.bundle.labels)
        )
        saliency = self._saliency(inputs, np.nonzero(flags)[0], std) if self.config.explain else {}
        fiducials = {} if intervals.delineation is None else {
            name: intervals.delineation[name] for name in FIDUCIALS
        }
        worded = self._worded(partial(_interpretation, std, measured, predictions))
        return AnalysisResult(**base, intervals=intervals.to_dict(), predictions=predictions, r_peaks=r_peaks,
                              n_beats=len(r_peaks), saliency=saliency, fiducials=fiducials, **worded)

    def _worded(self, word: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        """The result's ``rhythm``, ``interpretation``, ``lang`` and ``translations``: ``word(lang)`` (a dict of the
        first two) in the configured language and in each translation."""
        lang = self.config.lang
        others = {other: word(other) for other in self.config.translations if other != lang}
        return {**word(lang), "lang": lang, "translations": others}

    def _probabilities(self, x: np.ndarray, inputs: np.ndarray, measured: RecordMeasurements) -> np.ndarray:
        """Reported record probabilities ``(labels,)`` from the network's outputs on the record's windows
        (:class:`~cardioscreen.ensemble.reported.ReportedOutput`: calibrated, stacked with boosting where that won
        on validation, in the reported range); the stacked output also takes the record's hand-made features (on
        beats cut around the R-peaks already measured) and the clinical measurements already made (``measured``,
        the row training measured for the same record).
        """
        spec = self.bundle.input_spec
        window_probs, embeddings = self._run(inputs)
        network = spec.aggregate_outputs(window_probs)
        r_peaks = peaks_at(measured.r_peaks, measured.fs, spec.fs, x.shape[-1])
        features = self.output.features(x[None], spec, measurement_vector(measured)[None], [r_peaks])
        return np.asarray(self.output.probabilities(network[None], embeddings.mean(axis=0)[None], features)[0])

    def _saliency(self, inputs: np.ndarray, flagged: np.ndarray, std: ECGRecord) -> dict[str, np.ndarray]:
        """Saliency ``(leads, samples)`` in [0, 1] at the record's rate for each flagged class.

        Each window's integrated gradients are mapped back onto the part of the record it covers; where windows
        overlap the larger value is kept.
        """
        if flagged.size == 0:
            return {}
        spec = self.bundle.input_spec
        scale = std.fs / spec.fs
        n_input = int(round(std.n_samples / scale))
        full = np.zeros((len(flagged), std.n_leads, std.n_samples), dtype=np.float32)
        for window, start in zip(inputs, window_starts(n_input, spec.samples, spec.stride), strict=True):
            attributions = integrated_gradients(self.bundle.model, window, flagged.tolist())
            # A short record was zero-padded on both sides (start < 0): keep the part over real samples.
            lo, hi = max(start, 0), min(start + spec.samples, n_input)
            a, b = int(lo * scale), min(std.n_samples, int(round(hi * scale)))
            for k in range(len(flagged)):
                covered = attribution_magnitude(attributions[k][:, lo - start : hi - start], spec.fs, b - a)
                full[k, :, a:b] = np.maximum(full[k, :, a:b], covered)
        return {
            self.bundle.labels[index].code: full[k] / max(float(full[k].max()), np.finfo(np.float32).tiny)
            for k, index in enumerate(flagged)
        }


_SUMMARY_KEYS = ("macro_auc", "macro_f1", "sensitivity", "specificity")
NOT_INTERPRETABLE = "NOINTERP"
"""Statement code of a record refused for its signal quality (our own: PTB-XL has none)."""


def _validation_summary(per_task: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """Headline validation figures ``keys`` per task (with their 90% intervals) from a bundle's full metrics."""
    summary: dict[str, Any] = {}
    for task, figures in per_task.items():
        if not isinstance(figures, dict):
            continue
        summary[task] = {key: figures[key] for key in keys if key in figures}
        summary[task].update({f"{key}_ci": figures[f"{key}_ci"] for key in keys if f"{key}_ci" in figures})
        summary[task]["n_records"] = figures.get("n_records")
        if isinstance(figures.get("baseline"), dict):
            summary[task]["baseline"] = figures["baseline"]
    return summary


def _interpretation(std: ECGRecord, measured: RecordMeasurements, predictions: Sequence[Prediction],
                    lang: str) -> dict[str, Any]:
    """The rhythm (on the record's cleaned leads, its R-peaks and delineation; pacing spikes on its raw signal) and
    the written interpretation of a measured record, worded in ``lang``, as their ``to_dict()`` forms."""
    delineation = measured.intervals.delineation
    rhythm = ecg_rhythm(measured.clean, std.fs, std.leads, r_peaks=measured.r_peaks, delineation=delineation,
                        raw=std.signal, lang=lang)
    age = std.meta.get("age")
    interpretation = interpret(rhythm, measured.intervals, measured.morphology, predictions, sex=std.meta.get("sex"),
                               age=float(age) if isinstance(age, int | float) else None, lang=lang)
    return {"rhythm": rhythm.to_dict(), "interpretation": interpretation.to_dict()}


def _not_interpretable(refusal: str, lang: str) -> dict[str, Any]:
    """A refused record's wording: no rhythm, and an interpretation whose summary and only statement tell the
    doctor it was not interpreted (with the refusal as the evidence) and should be repeated."""
    text = ui_strings(lang)["not_interpretable"]
    statement = Statement(code=NOT_INTERPRETABLE, text=text, source="measurement", evidence=refusal,
                          severity="abnormal")
    return {"rhythm": None,
            "interpretation": Interpretation(summary=text, statements=(statement,), urgent=False, lang=lang).to_dict()}


def _refusal(verdict: str, reasons: Sequence[str]) -> str | None:
    """Why a record gets no probabilities (its quality is unusable, which includes fewer than two heartbeats), or
    None when it can be analysed."""
    if verdict == "unusable":
        return "signal quality too poor: " + "; ".join(reasons)
    return None


class FileJob:
    """Picklable per-process job for batches: load the Analyzer once, then analyse (and report) files."""

    def __init__(
        self,
        bundle: Path | None,
        config: AnalyzerConfig,
        report_for: Callable[[Path], Path | None] | None = None,
    ) -> None:
        self.analyzer = Analyzer.load(bundle, config)
        self.report_for = report_for

    def __call__(self, path: Path) -> AnalysisResult:
        record, result = self.analyzer.analyze_file(path)
        target = self.report_for(path) if self.report_for else None
        if target is not None:
            from cardioscreen.report import render_report

            render_report(record, result, target, lang=self.analyzer.config.lang)
        return AnalysisResult(**{**result.__dict__, "saliency": {}})
