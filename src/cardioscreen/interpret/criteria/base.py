"""What every criterion reads (:class:`Context`) and returns (:class:`Finding`), and the lead groups they share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cardioscreen.signal.morphology import LeadWaves, Morphology

__all__ = ["CONTIGUOUS", "Context", "Criterion", "Finding", "contiguous_leads"]

CONTIGUOUS: tuple[tuple[str, str], ...] = (
    ("aVL", "I"), ("II", "aVF"), ("aVF", "III"),
    ("V1", "V2"), ("V2", "V3"), ("V3", "V4"), ("V4", "V5"), ("V5", "V6"),
)
"""Pairs of anatomically contiguous leads (limb leads in Cabrera order aVL, I, (-aVR), II, aVF, III, and the
precordial leads in order); aVR takes part in none."""


@dataclass(frozen=True)
class Finding:
    """One criterion met: its statement code, severity, the measurements behind it and the text's arguments.

    ``evidence`` holds ``(phrase key, values)`` pairs of :data:`cardioscreen.interpret.texts.EVIDENCE`; ``args``
    fills the statement text (``leads``: the leads involved, ``where``).
    """

    code: str
    severity: str
    evidence: tuple[tuple[str, dict[str, Any]], ...]
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """The measurements of one record and the patient's sex and age, as the criteria read them.

    Attributes
    ----------
    values : mapping
        The intervals (``Intervals.to_dict()``: ``pr_ms``, ``qrs_ms``, ``qtc_framingham_ms``, ``qrs_axis_deg``,
        ``paced``...).
    morphology : Morphology
        Per-lead amplitudes (empty when none were measured).
    female : bool or None
        None where the sex is unknown.
    age : float or None
        Years.
    """

    values: Mapping[str, Any]
    morphology: Morphology
    female: bool | None = None
    age: float | None = None

    def value(self, key: str) -> float | None:
        """A measured interval (ms, degrees), None where it was not measured."""
        v = self.values.get(key)
        return None if v is None else float(v)

    def lead(self, name: str) -> LeadWaves | None:
        """The amplitudes of lead ``name`` (None where not measured)."""
        return self.morphology[name]

    def leads(self, names: Iterable[str]) -> dict[str, LeadWaves]:
        """The measured leads among ``names``."""
        return {n: w for n in names if (w := self.lead(n)) is not None}

    @property
    def qrs_ms(self) -> float | None:
        """The global QRS duration (onset to offset over the leads, as the AHA criteria mean it), the intervals'
        median-lead QRS where the amplitudes were not measured."""
        return self.morphology.qrs_global_ms if self.morphology.qrs_global_ms is not None else self.value("qrs_ms")

    @property
    def has_morphology(self) -> bool:
        return self.morphology.n_beats > 0


Criterion = Callable[[Context, set[str]], list[Finding]]
"""A criterion: the context and the codes found so far (for exclusions) -> the findings it makes."""


def contiguous_leads(hits: Sequence[str], within: Iterable[str]) -> list[str]:
    """The leads of ``hits`` that have a contiguous partner among ``hits``, both in ``within``, in lead order."""
    allowed = set(hits) & set(within)
    paired = {lead for pair in CONTIGUOUS if set(pair) <= allowed for lead in pair}
    return [lead for lead in hits if lead in paired]
