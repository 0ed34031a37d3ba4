"""What the readers, the upload checks, the sandbox and the analysis say, worded in the page's language.

Those modules know nothing of the web's languages: they raise errors (and the analysis writes refusals) whose message
is one English sentence, shown as is by the CLI and the API. A page in another language matches the message against
the English entries of :data:`~cardioscreen.web.i18n.MESSAGES` (each entry is the wording of one message, its values
in braces) and shows the same entry in its language, with the values read out of the message; a value named
``reason`` is itself a message, and ``reasons`` are quality reasons joined by "; ", each worded in turn (a quality
issue's reason from the report's words for it, :func:`~cardioscreen.report.descriptions.ui_strings`). A message no
entry matches is shown as it is when the page's own catalogue worded it (a refusal the web words itself), else as
the catalogue's ``message_unreadable_file`` (naming the file the message begins with), ``message_internal_error``
(an exception type and its message) or ``message_unreadable``, and logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache

from cardioscreen.report.descriptions import ui_strings
from cardioscreen.signal.quality import ISSUES
from cardioscreen.web.i18n import MESSAGES, STRINGS, translator

logger = logging.getLogger(__name__)

__all__ = ["message_translator", "word_message"]

_NESTED = {"reason": "", "reasons": "; "}
"""Values that are messages themselves, and what joins several of them ("" for one)."""
_FILE_PREFIX = re.compile(r"(?P<file>[^:\n]{1,255}\.\w{1,12}): ")
_EXCEPTION = re.compile(r"(?P<error>[A-Z]\w*(?:Error|Exception)): .*", re.DOTALL)


def _pattern(template: str) -> re.Pattern[str]:
    """The regular expression of an English entry: its text literally, each ``{name}`` a group of any text."""
    parts = re.split(r"\{(\w+)\}", template)
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts)),
                      re.DOTALL)


@cache
def _table(lang: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """(pattern of the English wording, the wording in ``lang``) of every message, the quality issues' reasons
    (``"flat line: V5, V6"``) included."""
    english, words = MESSAGES["en"], MESSAGES[lang]
    report_en, report = ui_strings("en"), ui_strings(lang)
    issues = tuple((_pattern(text + ": {leads}"), report.get(f"issue_{code}", report_en[f"issue_{code}"]) + ": {leads}")
                   for code, text in ISSUES.items())
    return tuple((_pattern(template), words[key]) for key, template in english.items()) + issues


def word_message(message: str | None, lang: str) -> str:
    """``message`` (English, from a reader, the upload checks, the sandbox or the analysis) in ``lang``; English
    and empty messages are returned as they are."""
    if not message or lang == "en":
        return message or ""
    worded = _worded(message, lang)
    if worded is not None:
        return worded
    return message if _own(message, lang) else _fallback(message, lang)


@cache
def _own_patterns(lang: str) -> tuple[re.Pattern[str], ...]:
    """Patterns of the page catalogue's entries in ``lang`` that hold a word (``"{doctor}, {when}"`` does not)."""
    worded = (text for text in STRINGS[lang].values() if re.search(r"[^\W\d_]", re.sub(r"\{\w+\}", "", text)))
    return tuple(_pattern(text) for text in worded)


def _own(message: str, lang: str) -> bool:
    """Whether ``message`` is the page catalogue's own wording in ``lang`` (a page's refusal already worded, such as
    ``verdicts_missing``): shown as it is."""
    return any(pattern.fullmatch(message) for pattern in _own_patterns(lang))


def _fallback(message: str, lang: str) -> str:
    """The catalogue's general wording of a message that no entry matches (logged)."""
    logger.info("no %s wording for the message %r", lang, message)
    t = translator(lang)
    exception = _EXCEPTION.fullmatch(message)
    if exception:
        return t("message_internal_error", error=exception["error"])
    named = _FILE_PREFIX.match(message)
    return t("message_unreadable_file", file=named["file"]) if named else t("message_unreadable")


def _worded(message: str, lang: str) -> str | None:
    """The wording of ``message`` in ``lang`` by the first entry it matches (a nested message that matches none in
    the general wording), or None when it matches none."""
    for pattern, template in _table(lang):
        match = pattern.fullmatch(message)
        if match is None:
            continue
        values = match.groupdict()
        for name, joint in _NESTED.items():
            if name in values:
                parts = values[name].split(joint) if joint else [values[name]]
                values[name] = joint.join(_worded(part, lang) or _fallback(part, lang) for part in parts)
        return template.format(**values)
    return None


def message_translator(lang: str) -> Callable[[str | None], str]:
    """``word(message)`` for templates: :func:`word_message` in ``lang``."""
    return lambda message: word_message(message, lang)
