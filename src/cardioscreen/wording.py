"""English messages said again in another language, by a catalogue of their wordings.

The readers, the quality check and the analysis say what went wrong in one English sentence. A catalogue entry is the
English wording of one such message, its values in braces (``"only {usable} of {total} leads are usable"``), beside
its wording in another language; a message is matched against the English wordings in order and said by the first
entry it matches, with the values read out of the message. The web pages (:mod:`cardioscreen.web.messages`) and the
report (:mod:`cardioscreen.report.refusal`) word messages this way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache

__all__ = ["Entries", "entries", "reword", "template_pattern"]

Entries = tuple[tuple[re.Pattern[str], str], ...]
"""(pattern of an English wording, the same message's wording in another language), in matching order."""


@lru_cache(maxsize=1024)
def template_pattern(template: str) -> re.Pattern[str]:
    """The regular expression of a wording: its text literally, each ``{name}`` a group of any text."""
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)),
                      re.DOTALL)


def entries(english: Mapping[str, str], worded: Mapping[str, str]) -> Entries:
    """The entries of two catalogues with the same keys (English, another language), in the English one's order."""
    return tuple((template_pattern(template), worded[key]) for key, template in english.items())


def reword(message: str, table: Entries, nested: Mapping[str, str] | None = None,
           fallback: Callable[[str], str] | None = None) -> str | None:
    """``message`` in the language of ``table``'s wordings, or None when no entry matches.

    Parameters
    ----------
    message : str
        An English message.
    table : Entries
        The catalogue, in matching order (the first entry that matches the whole message wins).
    nested : mapping, optional
        Values that are messages themselves -> what joins several of them ("" for one), e.g. ``{"reasons": "; "}``:
        each is worded in turn.
    fallback : callable, optional
        What a nested message no entry matches is said as (default: as it is).
    """
    for pattern, template in table:
        match = pattern.fullmatch(message)
        if match is None:
            continue
        values = match.groupdict()
        for name, joint in (nested or {}).items():
            if name in values:
                parts = values[name].split(joint) if joint else [values[name]]
                values[name] = joint.join(reword(part, table, nested, fallback)
                                          or (fallback(part) if fallback else part) for part in parts)
        return template.format(**values)
    return None
