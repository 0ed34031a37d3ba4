"""Words of the administrators' model registry page, per page language (kept beside :mod:`~.i18n`'s table, which
another change is reworking; merge them into it when that lands)."""

from __future__ import annotations

MODEL_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Models", "version": "Version", "state": "State", "model": "Network", "training": "Training data",
        "validation": "Validation macro-AUC (90% CI)", "added": "Added", "active": "active", "shadow": "shadow",
        "fallback": "shipped / configured", "studies": "Studies analysed", "fine_tuned": "fine-tuned from",
        "records": "{train} train / {val} val records", "history": "Earlier active versions (rollback order)",
        "none": "none", "shadow_title": "Shadow mode: candidates beside the active model",
        "shadow_none": "No candidate has run in shadow mode yet.",
        "same_flags": "Studies with the same flags as the active model", "class_agreement": "Class flags equal",
        "doctors": "Agreement with the doctors' verdicts", "candidate": "candidate", "active_model": "active model",
        "verdicts": "{n} verdicts", "how": "Register, compare, promote and roll back with `cardioscreen models` "
        "(see docs/models/reviews.md); every change is in the audit log. New studies use the active model; earlier "
        "studies keep the result they were reviewed on.",
        "reanalyse": "Re-analyse a study with the active model", "study_id": "Study number",
        "reanalyse_button": "Re-analyse", "reanalysed": "Study {id} re-analysed with model {version}.",
        "no_study": "There is no study {id}.",
    },
    "ru": {
        "title": "Модели", "version": "Версия", "state": "Состояние", "model": "Сеть", "training": "Обучающие данные",
        "validation": "Macro-AUC на валидации (90% ДИ)", "added": "Добавлена", "active": "активная",
        "shadow": "теневая", "fallback": "поставляемая / настроенная", "studies": "Проанализировано исследований",
        "fine_tuned": "дообучена из", "records": "{train} обуч. / {val} валид. записей",
        "history": "Прежние активные версии (порядок отката)", "none": "нет",
        "shadow_title": "Теневой режим: кандидаты рядом с активной моделью",
        "shadow_none": "Ни один кандидат ещё не работал в теневом режиме.",
        "same_flags": "Исследования с теми же находками, что у активной модели",
        "class_agreement": "Совпадение отметок по классам", "doctors": "Согласие с вердиктами врачей",
        "candidate": "кандидат", "active_model": "активная модель", "verdicts": "вердиктов: {n}",
        "how": "Регистрация, сравнение, продвижение и откат — командой `cardioscreen models` (см. "
        "docs/models/reviews.md); каждое изменение записано в журнал аудита. Новые исследования анализирует "
        "активная модель; прежние сохраняют результат, по которому их проверил врач.",
        "reanalyse": "Повторный анализ исследования активной моделью", "study_id": "Номер исследования",
        "reanalyse_button": "Проанализировать заново", "reanalysed": "Исследование {id} проанализировано моделью "
        "{version}.", "no_study": "Исследования {id} нет.",
    },
}
