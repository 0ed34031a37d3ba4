"""Why a record got no findings, in the reader's language.

The Analyzer refuses a record for its quality (``"signal quality too poor: "`` and the quality check's reasons,
always English) or for too many unusable leads (in the result's language). The report and the web pages are read in
other languages too, so they word the refusal again: matched against the English wordings of the report's interface
strings (``refusal_*``, ``reason_*``, and each quality issue, :data:`~cardioscreen.signal.quality.ISSUES`) by
:func:`cardioscreen.wording.reword`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from cardioscreen.report.descriptions import ui_strings
from cardioscreen.signal.quality import ISSUES
from cardioscreen.wording import Entries, entries, reword, template_pattern

__all__ = ["NESTED", "refusal_entries", "refusal_text", "with_refusal_worded"]

NESTED = {"reasons": "; "}
"""The refusal's values that are the quality check's reasons, joined by "; "."""


@cache
def refusal_entries(lang: str) -> Entries:
    """The catalogue of the analysis' refusals and the quality check's reasons in ``lang``."""
    english, words = ui_strings("en"), ui_strings(lang)
    keys = [key for key in english if key.startswith(("refusal_", "reason_"))]
    issues = tuple((template_pattern(text + ": {leads}"), words[f"issue_{code}"] + ": {leads}")
                   for code, text in ISSUES.items())
    return entries({key: english[key] for key in keys}, words) + issues


def refusal_text(refusal: str | None, lang: str) -> str | None:
    """``refusal`` (a result's, or None) in ``lang``: English refusals worded again, a quality reason no entry
    matches left in English; a refusal already in ``lang`` (no English wording matches it) as it is."""
    if refusal is None or lang == "en":
        return refusal
    return reword(refusal, refusal_entries(lang), NESTED) or refusal


def with_refusal_worded(interpretation: Mapping[str, Any] | None, refusal: str | None, lang: str,
                        ) -> dict[str, Any] | None:
    """A refused record's interpretation (``Interpretation.to_dict()`` form, in ``lang``) with the refusal its
    statement gives as evidence worded in ``lang`` too (the Analyzer gives every language the refusal as it worded
    it); any other interpretation as it is."""
    if interpretation is None:
        return None
    if not refusal:
        return dict(interpretation)
    statements = [{**s, "evidence": refusal_text(refusal, lang)} if s.get("evidence") == refusal else s
                  for s in interpretation.get("statements") or ()]
    return {**interpretation, "statements": statements}
