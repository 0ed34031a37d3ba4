"""The result of analysing one record: what the CLI prints, the report renders and the web app stores."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Prediction:
    """One class of the model for one record.

    Attributes
    ----------
    code : str
        Class code, e.g. ``"CLBBB"`` (seed17) or ``"MI"`` (superdiagnostic).
    name : str
        Human-readable name in the language asked for.
    task : str
        Label task the class belongs to: ``"seed17"`` or ``"superdiagnostic"``.
    probability : float
        Calibrated probability in [0, 1].
    threshold : float
        Decision threshold tuned on validation data; ``flagged`` is ``probability >= threshold``.
    flagged : bool
        Whether the class is reported as present (never for a class that is not assessed).
    assessed : bool
        False for a class the model cannot assess (too few training positives, or a validation AUC interval
        reaching below 0.6): it is never flagged and is shown as "not assessed by this model".
    note : str
        A caveat in the result's language, e.g. "not assessed by this model", or on a flag of a record whose
        unusable leads were left out of the analysis; empty when there is none.
    """

    code: str
    name: str
    task: str
    probability: float
    threshold: float
    flagged: bool
    assessed: bool = True
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "task": self.task,
            "probability": round(float(self.probability), 4),
            "threshold": round(float(self.threshold), 4),
            "flagged": bool(self.flagged),
            "assessed": bool(self.assessed),
            "note": self.note,
        }


_PREDICTION_FIELDS = tuple(f.name for f in fields(Prediction))


def worded(data: Mapping[str, Any], lang: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The ``rhythm`` and ``interpretation`` of a result's :meth:`AnalysisResult.to_dict` form in ``lang``: from its
    ``translations`` when they hold ``lang``, else as the result words them (results stored before rhythm and
    interpretation existed give None for both)."""
    translations = data.get("translations") or {}
    if lang != data.get("lang", "en") and lang in translations:
        return translations[lang].get("rhythm"), translations[lang].get("interpretation")
    return data.get("rhythm"), data.get("interpretation")


@dataclass(frozen=True)
class AnalysisResult:
    """Everything the analysis found for one record.

    Attributes
    ----------
    record : str
        Record identifier (file name or the id the file holds).
    fs : float
        Sampling rate (Hz) of the record the sample indices below refer to.
    quality : dict
        The quality verdict (``verdict``: usable / warn / unusable, ``reasons``, ``per_lead``).
    intervals : dict or None
        Interval measurements (``hr_bpm``, ``pr_ms``, ``qrs_ms``, ``qt_ms``, ``qtc_bazett_ms``...), numbers or None;
        None as a whole when the record was refused.
    predictions : tuple of Prediction
        Every class of the model, in the model's order; empty when the record was refused.
    model : dict
        ``name``, ``version``, ``backend`` and the validation figures the model reached.
    r_peaks : np.ndarray
        R-peak sample indices at ``fs``, shape ``(n_peaks,)``.
    n_beats : int
        Number of beats the analysis used.
    refusal : str or None
        Why no probabilities are given (an unusable record), or None.
    saliency : dict
        Class code -> array ``(leads, samples)`` in [0, 1] at ``fs``: which leads and segments drove each flag.
    fiducials : dict
        Wave boundary -> multi-lead sample index per beat at ``fs`` (NaN where absent): ``p_on``, ``p_off``,
        ``qrs_on``, ``qrs_off``, ``t_off`` (and the ``p_peak``/``t_peak`` the delineation found).
    rhythm : dict or None
        The rhythm analysis (``RhythmResult.to_dict()``: ``code``, ``name``, ``heart_rate_bpm``, ``episodes``,
        ``ectopy``, ``evidence``, ``source``...); None when the record was refused (its signal could not be read
        reliably enough to call a rhythm).
    interpretation : dict or None
        The written interpretation (``Interpretation.to_dict()``: ``summary``, ``statements`` in reading order,
        rhythm first, ``urgent``). A refused record gets one too, whose summary and only statement say why there is
        none, so every output shows the doctor that the record was not interpreted rather than nothing. None only in
        results stored before interpretations existed.
    lang : str
        Language of the names and texts above (``"en"`` or ``"ru"``).
    translations : dict
        Language -> ``{"rhythm": ..., "interpretation": ...}``: the same analysis worded in other languages (the web
        app stores every language so its pages follow the reader's); empty unless asked for.
    """

    record: str
    fs: float
    quality: dict[str, Any]
    intervals: dict[str, Any] | None
    predictions: tuple[Prediction, ...]
    model: dict[str, Any]
    r_peaks: np.ndarray
    n_beats: int
    refusal: str | None = None
    saliency: dict[str, np.ndarray] = field(default_factory=dict)
    fiducials: dict[str, np.ndarray] = field(default_factory=dict)
    rhythm: dict[str, Any] | None = None
    interpretation: dict[str, Any] | None = None
    lang: str = "en"
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    @property
    def flagged(self) -> list[Prediction]:
        """Flagged classes, most probable first."""
        return sorted((p for p in self.predictions if p.flagged), key=lambda p: -p.probability)

    @property
    def urgency(self) -> float:
        """Highest probability among flagged abnormal classes (NORM excluded); 0 when nothing is flagged."""
        return max((p.probability for p in self.flagged if p.code != "NORM"), default=0.0)

    def worded(self, lang: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The rhythm and interpretation in ``lang`` when the result holds them in it, else in :attr:`lang`."""
        return worded({"lang": self.lang, "rhythm": self.rhythm, "interpretation": self.interpretation,
                       "translations": self.translations}, lang)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no arrays but the R-peaks): the schema of ``cardioscreen analyze --json``.

        ``translations`` is present only when the result holds some.
        """
        data = {
            "record": self.record,
            "lang": self.lang,
            "rhythm": self.rhythm,
            "interpretation": self.interpretation,
            "quality": self.quality,
            "intervals": self.intervals,
            "predictions": [p.to_dict() for p in self.predictions],
            "model": self.model,
            "n_beats": int(self.n_beats),
            "fs": float(self.fs),
            "r_peaks": [int(i) for i in self.r_peaks],
            "refused": self.refused,
            "refusal": self.refusal,
            "fiducials": {
                name: [None if not np.isfinite(i) else int(i) for i in np.asarray(indices, dtype=np.float64)]
                for name, indices in self.fiducials.items()
            },
        }
        if self.translations:
            data["translations"] = self.translations
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], saliency: dict[str, np.ndarray] | None = None) -> AnalysisResult:
        """Rebuild a result from its :meth:`to_dict` form (saliency maps are not part of it: pass them)."""
        return cls(
            record=data["record"],
            fs=float(data["fs"]),
            quality=data["quality"],
            intervals=data["intervals"],
            # results stored before a field existed lack it: it keeps its default
            predictions=tuple(Prediction(**{k: p[k] for k in _PREDICTION_FIELDS if k in p})
                              for p in data["predictions"]),
            model=data["model"],
            r_peaks=np.asarray(data["r_peaks"], dtype=np.int64),
            n_beats=int(data["n_beats"]),
            refusal=data.get("refusal"),
            saliency=dict(saliency or {}),
            fiducials={
                name: np.array([np.nan if i is None else i for i in indices], dtype=np.float64)
                for name, indices in data.get("fiducials", {}).items()
            },
            rhythm=data.get("rhythm"),
            interpretation=data.get("interpretation"),
            lang=data.get("lang", "en"),
            translations=dict(data.get("translations") or {}),
        )
