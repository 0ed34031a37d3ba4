"""What the rhythm analysis returns: the record's rhythm, its episodes and its ectopic beats."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cardioscreen.rhythm.texts import check_lang, rhythm_name

if TYPE_CHECKING:
    from cardioscreen.interpret.statement import Statement

__all__ = ["Ectopy", "Episode", "RhythmResult"]

URGENT_CODES = frozenset({"AFIB", "AFLT", "SVTAC", "PSVT"})
"""Rhythms shown as urgent (a new tachyarrhythmia or AF needs a doctor's look the same day)."""
NORMAL_CODES = frozenset({"SR"})
"""Rhythms that are normal findings."""


@dataclass(frozen=True)
class Episode:
    """One stretch of a record with one rhythm (seconds from the record's start)."""

    code: str
    start_s: float
    end_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "start_s": round(self.start_s, 2), "end_s": round(self.end_s, 2)}


@dataclass(frozen=True)
class Ectopy:
    """Premature beats counted over the record's organised (non-fibrillating) stretches.

    ``pattern`` is ``"BIGU"`` (every other beat ectopic, at least three times in a row), ``"TRIGU"`` (every
    third) or ``None``.
    """

    pvc: int = 0
    pac: int = 0
    pattern: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"pvc": self.pvc, "pac": self.pac, "pattern": self.pattern}


@dataclass(frozen=True)
class RhythmResult:
    """The rhythm of one record.

    Attributes
    ----------
    code : str
        PTB-XL rhythm code (``SR``, ``SBRAD``, ``STACH``, ``SARRH``, ``AFIB``, ``AFLT``, ``SVTAC``, ``PACE``) or
        ``JUNCT`` / ``UNDET``; for a long record, the rhythm covering most of it.
    heart_rate_bpm : float or None
        From the median RR interval of the whole record.
    episodes : tuple of Episode
        Consecutive stretches with one rhythm each (one covering the whole of a short record).
    ectopy : Ectopy
        PVC and PAC counts and a bigeminal / trigeminal pattern.
    evidence : str
        The measurements behind the call, in ``lang``.
    source : str
        ``"measurement"`` (the rules decided), ``"model"`` (the classifier decided) or ``"both"`` (they agree).
    pacing : str or None
        ``"atrial"``, ``"ventricular"`` or ``"dual"`` for a paced rhythm.
    measurement_code, model_code : str or None
        What the rules and the classifier each said (of the record's longest episode).
    probabilities : dict
        The classifier's probability per rhythm code.
    n_beats : int
        Beats the analysis saw.
    duration_s : float
        Length of the record in seconds.
    lang : str
        Language of ``name`` and ``evidence``.
    """

    code: str
    heart_rate_bpm: float | None
    episodes: tuple[Episode, ...]
    ectopy: Ectopy
    evidence: str
    source: str
    pacing: str | None = None
    measurement_code: str | None = None
    model_code: str | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    n_beats: int = 0
    duration_s: float = 0.0
    lang: str = "en"

    @property
    def name(self) -> str:
        """Display name of :attr:`code` in :attr:`lang`."""
        return rhythm_name(self.code, self.lang, self.pacing)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``code``, ``name``, ``heart_rate_bpm``, ``episodes``, ``ectopy``, ``evidence``,
        ``source`` and the details (``pacing``, ``measurement_code``, ``model_code``, ``probabilities``,
        ``n_beats``, ``duration_s``)."""
        return {
            "code": self.code,
            "name": self.name,
            "heart_rate_bpm": None if self.heart_rate_bpm is None else round(self.heart_rate_bpm, 1),
            "episodes": [e.to_dict() for e in self.episodes],
            "ectopy": self.ectopy.to_dict(),
            "evidence": self.evidence,
            "source": self.source,
            "pacing": self.pacing,
            "measurement_code": self.measurement_code,
            "model_code": self.model_code,
            "probabilities": {k: round(v, 3) for k, v in self.probabilities.items()},
            "n_beats": self.n_beats,
            "duration_s": round(self.duration_s, 2),
        }

    def statements(self, lang: str | None = None) -> list[Statement]:
        """Interpretation statements, rhythm first, then each kind of ectopy and its pattern.

        Parameters
        ----------
        lang : str, optional
            Language of the texts; :attr:`lang` when omitted (the evidence stays in :attr:`lang`).
        """
        from cardioscreen.interpret.statement import Statement

        lang = check_lang(lang or self.lang)
        rate = "" if self.heart_rate_bpm is None or self.code == "UNDET" else f" {self.heart_rate_bpm:.0f}/" + (
            "мин" if lang == "ru" else "min")
        severity = "urgent" if self.code in URGENT_CODES else ("normal" if self.code in NORMAL_CODES else "abnormal")
        out = [Statement(code=self.code, text=rhythm_name(self.code, lang, self.pacing) + rate, source=self.source,
                         evidence=self.evidence, severity=severity)]
        counts = {"PVC": self.ectopy.pvc, "PAC": self.ectopy.pac}
        beats = f"{self.n_beats}"
        for code, count in counts.items():
            if count:
                out.append(Statement(code=code, text=f"{rhythm_name(code, lang)}: {count}", source="measurement",
                                     evidence=f"{count}/{beats}", severity="abnormal"))
        if self.ectopy.pattern:
            out.append(Statement(code=self.ectopy.pattern, text=rhythm_name(self.ectopy.pattern, lang),
                                 source="measurement", evidence=f"{self.ectopy.pvc + self.ectopy.pac}/{beats}",
                                 severity="abnormal"))
        return out
