"""What the readers, the upload checks, the sandbox and the analysis say, worded in the page's language.

Those modules know nothing of the web's languages: they raise errors (and the analysis writes refusals) whose message
is one English sentence, shown as is by the CLI and the API. A page in another language matches the message
against the English entries of :data:`~cardioscreen.web.message_catalogue.MESSAGES` and of the analysis' refusals
and quality reasons
(:func:`~cardioscreen.report.refusal.refusal_entries`, which the report words the same way), each the wording of one
message with its values in braces, and shows the same entry in its language, with the values read out of the message
(:func:`cardioscreen.wording.reword`); a value named ``reason`` is itself a message, and ``reasons`` are quality
reasons joined by "; ", each worded in turn. A message no entry matches is shown as it is when the page's own
catalogue worded it (a refusal the web words itself), else as the catalogue's ``message_unreadable_file`` (naming the
file the message begins with), ``message_internal_error`` (an exception type and its message) or
``message_unreadable``, and logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import cache

from cardioscreen.report.refusal import refusal_entries
from cardioscreen.web.i18n import STRINGS, translator
from cardioscreen.web.message_catalogue import MESSAGES
from cardioscreen.wording import Entries, entries, reword, template_pattern

logger = logging.getLogger(__name__)

__all__ = ["message_translator", "word_message"]

_NESTED = {"reason": "", "reasons": "; "}
"""Values that are messages themselves, and what joins several of them ("" for one)."""
_FILE_PREFIX = re.compile(r"(?P<file>[^:\n]{1,255}\.\w{1,12}): ")
_EXCEPTION = re.compile(r"(?P<error>[A-Z]\w*(?:Error|Exception)): .*", re.DOTALL)


@cache
def _table(lang: str) -> Entries:
    """(pattern of the English wording, the wording in ``lang``) of every message, the analysis' refusals and the
    quality check's reasons (``"flat line: V5, V6"``) included."""
    return entries(MESSAGES["en"], MESSAGES[lang]) + refusal_entries(lang)


def word_message(message: str | None, lang: str) -> str:
    """``message`` (English, from a reader, the upload checks, the sandbox or the analysis) in ``lang``; English
    and empty messages are returned as they are."""
    if not message or lang == "en":
        return message or ""
    worded = reword(message, _table(lang), _NESTED, lambda part: _fallback(part, lang))
    if worded is not None:
        return worded
    return message if _own(message, lang) else _fallback(message, lang)


@cache
def _own_patterns(lang: str) -> tuple[re.Pattern[str], ...]:
    """Patterns of the page catalogue's entries in ``lang`` that hold a word (``"{doctor}, {when}"`` does not)."""
    worded = (text for text in STRINGS[lang].values() if re.search(r"[^\W\d_]", re.sub(r"\{\w+\}", "", text)))
    return tuple(template_pattern(text) for text in worded)


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


def message_translator(lang: str) -> Callable[[str | None], str]:
    """``word(message)`` for templates: :func:`word_message` in ``lang``."""
    return lambda message: word_message(message, lang)
