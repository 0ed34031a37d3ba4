"""Rhythm names and evidence phrases in English and Russian.

Codes are PTB-XL's rhythm statements (``SR``, ``SBRAD``, ``STACH``, ``SARRH``, ``AFIB``, ``AFLT``, ``SVTAC``,
``PSVT``, ``PACE``, ``BIGU``, ``TRIGU``, ``SVARR``) and its ectopy statements (``PVC``, ``PAC``), plus two of our
own where PTB-XL has none: ``JUNCT`` (junctional rhythm) and ``UNDET`` (undetermined).
"""

from __future__ import annotations

from cardioscreen.errors import CardioScreenError

LANGUAGES = ("en", "ru")

NAMES: dict[str, dict[str, str]] = {
    "SR": {"en": "Sinus rhythm", "ru": "Синусовый ритм"},
    "SBRAD": {"en": "Sinus bradycardia", "ru": "Синусовая брадикардия"},
    "STACH": {"en": "Sinus tachycardia", "ru": "Синусовая тахикардия"},
    "SARRH": {"en": "Sinus arrhythmia", "ru": "Синусовая аритмия"},
    "AFIB": {"en": "Atrial fibrillation", "ru": "Фибрилляция предсердий"},
    "AFLT": {"en": "Atrial flutter", "ru": "Трепетание предсердий"},
    "SVTAC": {"en": "Supraventricular tachycardia", "ru": "Наджелудочковая тахикардия"},
    "PSVT": {"en": "Paroxysmal supraventricular tachycardia", "ru": "Пароксизмальная наджелудочковая тахикардия"},
    "PACE": {"en": "Paced rhythm", "ru": "Ритм электрокардиостимулятора"},
    "JUNCT": {"en": "Junctional rhythm", "ru": "Узловой (АВ-) ритм"},
    "UNDET": {"en": "Undetermined rhythm", "ru": "Ритм не определён"},
    "SVARR": {"en": "Supraventricular arrhythmia", "ru": "Наджелудочковая аритмия"},
    "BIGU": {"en": "Bigeminy", "ru": "Бигеминия"},
    "TRIGU": {"en": "Trigeminy", "ru": "Тригеминия"},
    "PVC": {"en": "Premature ventricular complexes", "ru": "Желудочковые экстрасистолы"},
    "PAC": {"en": "Premature atrial complexes", "ru": "Предсердные (наджелудочковые) экстрасистолы"},
}
"""Display name of every code, per language."""

PACING_NAMES: dict[str, dict[str, str]] = {
    "atrial": {"en": "atrial", "ru": "предсердная"},
    "ventricular": {"en": "ventricular", "ru": "желудочковая"},
    "dual": {"en": "atrial and ventricular", "ru": "предсердная и желудочковая"},
}
"""Which chambers are paced, per language."""

PHRASES: dict[str, dict[str, str]] = {
    "rate": {"en": "rate {hr:.0f}/min", "ru": "ЧСС {hr:.0f}/мин"},
    "rr_regular": {"en": "RR regular (successive differences {irr:.0f} % of RR)",
                   "ru": "RR регулярны (последовательные разности {irr:.0f} % RR)"},
    "rr_irregular": {"en": "RR irregular (successive differences {irr:.0f} % of RR)",
                     "ru": "RR нерегулярны (последовательные разности {irr:.0f} % RR)"},
    "rr_varying": {"en": "RR varies by {range:.0f} ms without premature beats",
                   "ru": "RR меняется на {range:.0f} мс без экстрасистол"},
    "p_present": {"en": "P wave before {p:.0f} % of QRS, alike from beat to beat (r = {corr:.2f}), PR {pr:.0f} ms",
                  "ru": "зубец P перед {p:.0f} % QRS, одинаковый от комплекса к комплексу (r = {corr:.2f}), "
                        "PR {pr:.0f} мс"},
    "p_absent": {"en": "no consistent P wave (r = {corr:.2f}, found before {p:.0f} % of QRS)",
                 "ru": "нет постоянного зубца P (r = {corr:.2f}, найден перед {p:.0f} % QRS)"},
    "flutter_waves": {"en": "regular atrial waves at {rate:.0f}/min", "ru": "регулярные волны F {rate:.0f}/мин"},
    "spikes": {"en": "pacing spikes before {v:.0f} % of QRS ({chambers})",
               "ru": "спайки стимулятора перед {v:.0f} % QRS ({chambers})"},
    "qrs_wide": {"en": "QRS {qrs:.0f} ms", "ru": "QRS {qrs:.0f} мс"},
    "model": {"en": "model {code} {prob:.0f} %", "ru": "модель {code} {prob:.0f} %"},
    "ectopy": {"en": "{pvc} PVC, {pac} PAC in {beats} beats", "ru": "{pvc} ЖЭС, {pac} НЖЭС на {beats} комплексов"},
    "too_few": {"en": "only {beats} beats: too few to judge the rhythm",
                "ru": "всего {beats} комплексов: слишком мало для оценки ритма"},
}
"""Evidence phrases, per language; fields are filled with :meth:`str.format`."""


def check_lang(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGUAGES`, else a :class:`CardioScreenError` naming them."""
    if lang not in LANGUAGES:
        raise CardioScreenError(f"unknown language {lang!r}; expected one of {list(LANGUAGES)}")
    return lang


def rhythm_name(code: str, lang: str = "en", pacing: str | None = None) -> str:
    """Display name of a rhythm code in ``lang``; a paced rhythm names its chambers (``"Paced rhythm (atrial)"``)."""
    name = NAMES[code][check_lang(lang)]
    if code == "PACE" and pacing in PACING_NAMES:
        name = f"{name} ({PACING_NAMES[pacing][lang]})"
    return name


def phrase(key: str, lang: str = "en", **fields: object) -> str:
    """One evidence phrase of :data:`PHRASES` in ``lang``, with its fields filled in."""
    return PHRASES[key][check_lang(lang)].format(**fields)
