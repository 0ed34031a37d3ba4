"""The caveats shown beside a class's output, in the reader's language: "not assessed by this model" for a class the
model cannot assess, and on a flag of a record analysed without its unusable leads, which leads were left out.

The Analyzer words each :class:`~cardioscreen.result.Prediction`'s ``note`` in the result's language; the report and
the web pages are read in other languages too, so they word the caveat again from the prediction's ``assessed`` and
``note`` and the result's quality verdict (whose unusable leads are the leads the Analyzer left out).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from cardioscreen.ensemble.reported import prediction_note
from cardioscreen.signal.quality import LEAD_UNUSABLE

__all__ = ["caveat", "not_assessed_codes", "unusable_leads"]


def unusable_leads(quality: Mapping[str, Any]) -> tuple[str, ...]:
    """Leads of a result's quality verdict (``QualityReport.to_dict()`` form) with a disqualifying issue (flat,
    lost or noisy), in record order."""
    return tuple(lead for lead, issues in (quality.get("per_lead") or {}).items()
                 if LEAD_UNUSABLE.intersection(issues))


def caveat(assessed: bool, note: str, quality: Mapping[str, Any], lang: str, result_lang: str) -> str:
    """The caveat of one prediction in ``lang``; empty when it has none.

    Parameters
    ----------
    assessed : bool
        The prediction's ``assessed``: False gives "not assessed by this model".
    note : str
        The prediction's ``note`` as the Analyzer worded it in ``result_lang`` (empty: no caveat).
    quality : Mapping
        The result's quality verdict, ``QualityReport.to_dict()`` form.
    lang, result_lang : str
        The reader's language and the language the result was worded in.
    """
    if not assessed:
        return prediction_note(False, False, (), lang)
    if not note or lang == result_lang:
        return note
    return prediction_note(True, True, unusable_leads(quality), lang)


def not_assessed_codes(predictions: Iterable[Any]) -> list[str]:
    """Codes of the classes not assessed by the model, once each in the model's order, from
    :class:`~cardioscreen.result.Prediction` objects or their ``to_dict()`` form (results stored before
    ``assessed`` existed count as assessed)."""
    codes = []
    for p in predictions:
        code, assessed = (p["code"], p.get("assessed", True)) if isinstance(p, Mapping) else (p.code, p.assessed)
        if not assessed and code not in codes:
            codes.append(code)
    return codes
