"""Class descriptions and interface strings: complete in every language."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from cardioscreen.errors import CardioScreenError
from cardioscreen.report.descriptions import LANGUAGES, describe, described_codes, ui_strings

SEED17 = (
    "NORM",
    "IMI",
    "NDT",
    "NST_",
    "LVH",
    "LAFB",
    "IRBBB",
    "IVCD",
    "ASMI",
    "AMI",
    "ISCAL",
    "1AVB",
    "ILMI",
    "ISC_",
    "CRBBB",
    "CLBBB",
    "LAO/LAE",
)
SUPERCLASSES = ("NORM", "MI", "STTC", "CD", "HYP")
CYRILLIC = re.compile("[\u0400-\u04ff]")


class TestDescriptions:
    def test_every_class_in_every_language(self) -> None:
        assert set(described_codes()) == set(SEED17) | set(SUPERCLASSES)
        for code in described_codes():
            for lang in LANGUAGES:
                name, text = describe(code, lang)
                assert name and len(text) > 150, (code, lang)
                assert bool(CYRILLIC.search(name + text)) == (lang == "ru"), (code, lang)

    def test_seed_classes_belong_to_their_ptbxl_superclass(self, ptbxl_dir: Path) -> None:
        with open(ptbxl_dir / "scp_statements.csv", newline="") as handle:
            rows = {row[""]: row for row in csv.DictReader(handle)}
        for code in SEED17:
            assert rows[code]["diagnostic_class"] in SUPERCLASSES
            # The English name starts from PTB-XL's own description of the statement.
            ptbxl_words = set(re.findall(r"[a-z]+", rows[code]["description"].lower())) - {"non", "in"}
            name_words = set(re.findall(r"[a-z]+", describe(code, "en")[0].lower()))
            assert len(ptbxl_words & name_words) >= min(2, len(ptbxl_words)), code

    def test_unknown_code_and_language(self) -> None:
        assert describe("WPW", "en") == ("WPW", "")
        with pytest.raises(CardioScreenError, match="available: en, ru"):
            describe("NORM", "de")

    def test_interface_strings_match_across_languages(self) -> None:
        en, ru = ui_strings("en"), ui_strings("ru")
        assert en.keys() == ru.keys()
        assert "not a medical device" in en["notice"].lower()
        assert "не является медицинским изделием" in ru["notice"]
        for key in en:
            assert re.findall(r"{\w+}", en[key]) == re.findall(r"{\w+}", ru[key]), key
