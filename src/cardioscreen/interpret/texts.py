"""Statement texts, evidence phrases and summary closings in English and Russian."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cardioscreen.errors import CardioScreenError

__all__ = ["LANGUAGES", "check_lang", "closing", "evidence_text", "statement_text"]

LANGUAGES = ("en", "ru")

STATEMENTS: dict[str, dict[str, str]] = {
    "1AVB": {"en": "First-degree AV block", "ru": "АВ-блокада I степени"},
    "SHORTPR": {"en": "Short PR interval", "ru": "Укороченный интервал PR"},
    "CRBBB": {"en": "Complete right bundle branch block", "ru": "Полная блокада правой ножки пучка Гиса"},
    "IRBBB": {"en": "Incomplete right bundle branch block", "ru": "Неполная блокада правой ножки пучка Гиса"},
    "CLBBB": {"en": "Complete left bundle branch block", "ru": "Полная блокада левой ножки пучка Гиса"},
    "ILBBB": {"en": "Incomplete left bundle branch block", "ru": "Неполная блокада левой ножки пучка Гиса"},
    "LAFB": {"en": "Left anterior fascicular block", "ru": "Блокада передней ветви левой ножки пучка Гиса"},
    "LPFB": {"en": "Left posterior fascicular block", "ru": "Блокада задней ветви левой ножки пучка Гиса"},
    "IVCD": {"en": "Non-specific intraventricular conduction delay",
             "ru": "Неспецифическое нарушение внутрижелудочковой проводимости"},
    "LVH": {"en": "Left ventricular hypertrophy by voltage criteria",
            "ru": "Гипертрофия левого желудочка по вольтажным критериям"},
    "RVH": {"en": "Right ventricular hypertrophy", "ru": "Гипертрофия правого желудочка"},
    "LVOLT": {"en": "Low QRS voltage in the {where}", "ru": "Низкий вольтаж QRS в {where}"},
    "LNGQT": {"en": "Prolonged QT interval", "ru": "Удлинённый интервал QT"},
    "SHORTQT": {"en": "Short QT interval", "ru": "Укороченный интервал QT"},
    "IMI": {"en": "Q waves in the inferior leads: inferior infarction of undetermined age",
            "ru": "Зубцы Q в нижних отведениях: нижний инфаркт неопределённой давности"},
    "ASMI": {"en": "Q waves in V1-V3: anteroseptal infarction of undetermined age",
             "ru": "Зубцы Q в V1-V3: переднеперегородочный инфаркт неопределённой давности"},
    "AMI": {"en": "Q waves in the anterior leads: anterior infarction of undetermined age",
            "ru": "Зубцы Q в передних отведениях: передний инфаркт неопределённой давности"},
    "LMI": {"en": "Q waves in the lateral leads: lateral infarction of undetermined age",
            "ru": "Зубцы Q в боковых отведениях: боковой инфаркт неопределённой давности"},
    "ILMI": {"en": "Q waves in the inferior and lateral leads: inferolateral infarction of undetermined age",
             "ru": "Зубцы Q в нижних и боковых отведениях: нижнебоковой инфаркт неопределённой давности"},
    "ALMI": {"en": "Q waves in the anterior and lateral leads: anterolateral infarction of undetermined age",
             "ru": "Зубцы Q в передних и боковых отведениях: переднебоковой инфаркт неопределённой давности"},
    "STEMI_ANT": {"en": "ST elevation in the anterior leads ({leads}): acute anterior STEMI pattern",
                  "ru": "Подъём ST в передних отведениях ({leads}): картина острого переднего ИМпST"},
    "STEMI_INF": {"en": "ST elevation in the inferior leads ({leads}): acute inferior STEMI pattern",
                  "ru": "Подъём ST в нижних отведениях ({leads}): картина острого нижнего ИМпST"},
    "STEMI_LAT": {"en": "ST elevation in the lateral leads ({leads}): acute lateral STEMI pattern",
                  "ru": "Подъём ST в боковых отведениях ({leads}): картина острого бокового ИМпST"},
    "STD_": {"en": "ST depression in {leads}", "ru": "Депрессия ST в {leads}"},
    "INVT": {"en": "T-wave inversion in {leads}", "ru": "Инверсия зубца T в {leads}"},
}
"""Statement text per code and language; ``{leads}`` and ``{where}`` are filled in from the finding."""

WHERE: dict[str, dict[str, str]] = {
    "limb": {"en": "limb leads", "ru": "отведениях от конечностей"},
    "precordial": {"en": "precordial leads", "ru": "грудных отведениях"},
    "all": {"en": "limb and precordial leads", "ru": "отведениях от конечностей и грудных"},
}

EVIDENCE: dict[str, dict[str, str]] = {
    "pr": {"en": "PR {v:.0f} ms", "ru": "PR {v:.0f} мс"},
    "qrs_global": {"en": "QRS {v:.0f} ms over the leads", "ru": "QRS {v:.0f} мс по всем отведениям"},
    "axis": {"en": "QRS axis {v:+.0f}°", "ru": "ось QRS {v:+.0f}°"},
    "shape": {"en": "{lead} {shape}", "ru": "{lead} {shape}"},
    "s_wide": {"en": "S {v:.0f} ms in {lead}", "ru": "S {v:.0f} мс в {lead}"},
    "r_peak_time": {"en": "R-peak time {v:.0f} ms in {lead}", "ru": "время пика R {v:.0f} мс в {lead}"},
    "notched": {"en": "notched R in {leads}", "ru": "расщеплённый R в {leads}"},
    "sokolow": {"en": "Sokolow-Lyon {v:.2f} mV (limit 3.5)", "ru": "Соколов-Лайон {v:.2f} мВ (порог 3,5)"},
    "cornell": {"en": "Cornell {v:.2f} mV (limit {lim:.1f})", "ru": "Корнелл {v:.2f} мВ (порог {lim:.1f})"},
    "rv1": {"en": "R in V1 {v:.2f} mV, R/S {ratio:.1f}", "ru": "R в V1 {v:.2f} мВ, R/S {ratio:.1f}"},
    "rvh_sum": {"en": "R V1 + S V5/V6 {v:.2f} mV", "ru": "R V1 + S V5/V6 {v:.2f} мВ"},
    "low_voltage": {"en": "largest QRS {v:.2f} mV in the {where} (limit {lim:.1f})",
                    "ru": "наибольший QRS {v:.2f} мВ в {where} (порог {lim:.1f})"},
    "qtc": {"en": "QTc {v:.0f} ms (Framingham; Bazett {b:.0f} ms), QT {qt:.0f} ms",
            "ru": "QTc {v:.0f} мс (Фрамингем; Базетт {b:.0f} мс), QT {qt:.0f} мс"},
    "q_wave": {"en": "Q {ms:.0f} ms {mv:.2f} mV in {lead}", "ru": "Q {ms:.0f} мс {mv:.2f} мВ в {lead}"},
    "qs": {"en": "QS in {lead}", "ru": "QS в {lead}"},
    "st_j": {"en": "ST at J {v:+.2f} mV in {lead} (limit {lim:+.2f})",
             "ru": "ST в точке J {v:+.2f} мВ в {lead} (порог {lim:+.2f})"},
    "st_depression": {"en": "ST {v:+.2f} mV at J, {v60:+.2f} mV at J+60 ms in {lead}",
                      "ru": "ST {v:+.2f} мВ в точке J, {v60:+.2f} мВ в J+60 мс в {lead}"},
    "t_wave": {"en": "T {v:+.2f} mV in {lead}", "ru": "T {v:+.2f} мВ в {lead}"},
    "network": {"en": "network {p} % (threshold {t} %)", "ru": "нейросеть {p} % (порог {t} %)"},
    "network_no": {"en": "network does not flag it ({p} %, threshold {t} %)",
                   "ru": "нейросеть не отмечает ({p} %, порог {t} %)"},
    "criteria_no": {"en": "measurement criteria not met", "ru": "измерительные критерии не выполнены"},
}
"""Evidence phrases: the measurement that triggered a statement, in each language."""

CLOSINGS: dict[str, dict[str, str]] = {
    "normal": {"en": "Normal ECG.", "ru": "Нормальная ЭКГ."},
    "otherwise_normal": {"en": "Otherwise normal ECG.", "ru": "В остальном ЭКГ в пределах нормы."},
    "abnormal": {"en": "Abnormal ECG.", "ru": "ЭКГ с отклонениями от нормы."},
    "incomplete": {"en": "Measurements incomplete: no overall verdict.",
                   "ru": "Измерения неполные: общее заключение не дано."},
}


def check_lang(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`; a clear error otherwise."""
    if lang not in LANGUAGES:
        raise CardioScreenError(f"unknown language {lang!r}; available: {', '.join(LANGUAGES)}")
    return lang


def _leads(names: Sequence[str]) -> str:
    return ", ".join(names)


def statement_text(code: str, lang: str, args: Mapping[str, Any]) -> str:
    """The text of statement ``code`` in ``lang`` with its ``args`` (``leads``: lead names, ``where``)."""
    filled = {k: (_leads(v) if k == "leads" else v) for k, v in args.items()}
    if "where" in filled:
        filled["where"] = WHERE[filled["where"]][lang]
    return STATEMENTS[code][lang].format(**filled)


def evidence_text(parts: Sequence[tuple[str, Mapping[str, Any]]], lang: str) -> str:
    """The evidence phrases ``(key, values)`` joined in ``lang``."""
    out = []
    for key, values in parts:
        filled = {k: (_leads(v) if k == "leads" else v) for k, v in values.items()}
        if "where" in filled:
            filled["where"] = WHERE[filled["where"]][lang]
        out.append(EVIDENCE[key][lang].format(**filled))
    return "; ".join(out)


def closing(kind: str, lang: str) -> str:
    """The summary's last sentence: ``normal``, ``otherwise_normal``, ``abnormal`` or ``incomplete``."""
    return CLOSINGS[kind][lang]
