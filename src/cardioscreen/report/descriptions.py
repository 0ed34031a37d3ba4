"""Names and short clinical descriptions of the model's classes, and the report's interface strings.

The text lives in ``descriptions.json`` beside this module: for each class code (the 17 seed
statements and the 5 PTB-XL superclasses; ``NORM`` is both) a name and one paragraph in every
language, and the strings of the report's interface.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from cardioscreen.errors import CardioScreenError

__all__ = ["LANGUAGES", "described_codes", "describe", "ui_strings"]

LANGUAGES: tuple[str, ...] = ("en", "ru")
"""Languages every description and interface string exists in."""


@cache
def _data() -> dict[str, Any]:
    text = resources.files("cardioscreen.report").joinpath("descriptions.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise CardioScreenError(f"unknown language {lang!r}; available: {', '.join(LANGUAGES)}")


def described_codes() -> tuple[str, ...]:
    """Class codes that have a description, in the file's order."""
    return tuple(_data()["classes"])


def describe(code: str, lang: str = "en") -> tuple[str, str]:
    """Name and description of a class.

    Parameters
    ----------
    code : str
        Class code, e.g. ``"CLBBB"``, ``"LAO/LAE"`` or ``"MI"``.
    lang : str
        ``"en"`` or ``"ru"``.

    Returns
    -------
    name : str
        Full name, e.g. ``"Complete left bundle branch block"``.
    text : str
        One paragraph: ECG criteria, meaning and what to do next. A code without a description
        (a class of another label task) gives the code itself as its name and an empty text.
    """
    _check_lang(lang)
    entry = _data()["classes"].get(code)
    if entry is None:
        return code, ""
    return entry[lang]["name"], entry[lang]["text"]


def ui_strings(lang: str) -> dict[str, str]:
    """The report's interface strings in ``lang`` (a fresh dict: key -> text)."""
    _check_lang(lang)
    return dict(_data()["ui"][lang])
