"""Every refusal a patient can get reads in Russian on a Russian page (issue 14, item 7): the readers, the upload
checks, the sandbox and the analysis say English sentences (the CLI and the API show them as they are), and the web
words each in the page's language (:mod:`cardioscreen.web.messages`). Real bad uploads (a truncated WFDB record, a
file that is no ECG, the npz bomb, an empty file, files of no one record, a header without its signal, half a
second of a record, a two-lead Holter record), real analysis refusals (PTB-XL 1 with eight or three leads flat) and
the sandbox's failures (a real analysis past its time limit; out of memory, killed by a signal), each on an English
page as the message says it and on a Russian page in Russian."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cardioscreen.ensemble.reported import too_many_left_out
from cardioscreen.io import read_ecg, write_ecg
from cardioscreen.web.i18n import STRINGS, translator
from cardioscreen.web.message_catalogue import MESSAGES
from cardioscreen.web.messages import word_message
from cardioscreen.web.models import Study, User

from .conftest import AppFactory, add_user
from .support import Browser, npz_bomb, wfdb_files, zeroed_files
from .test_web_api import _token

ALLOWED_LATIN = {"WFDB", "ECG", "NaN", "inf", "SIGKILL", "SIGSEGV", "III", "MLII", "aVR", "aVL", "aVF", "hl7", "aecg",
                 "dicom", "scp", "ecg", "sierra", "muse", "edf", "numpy", "wfdb", "matlab", "csv", "signal"}
"""Latin words a Russian message may hold: format and lead names, signal names, the NumPy array name 'signal'."""


def _english_words(text: str, *names: str) -> list[str]:
    """Latin words of three letters or more in ``text`` (file names and extensions taken out) that are no format or
    lead name."""
    for name in names:
        text = text.replace(name, " ")
    text = re.sub(r"\S*\.\w+", " ", text)
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in ALLOWED_LATIN]


def _alert(page: str) -> str:
    """The text of the page's first error box."""
    found = re.search(r'<div class="alert alert-error"[^>]*>(.*?)</div>', page, re.S)
    assert found, page[:500]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))).strip()


def _study_message(page: str, lang: str) -> str:
    """What a study page says after its "analysis failed" or "no findings" label, in ``lang``."""
    failed, refused = (html.escape(STRINGS[lang][key]) for key in ("analysis_error", "refusal"))
    found = (re.search(rf'<strong>{failed}</strong><br><span class="mono small">(.*?)</span>', page, re.S)
             or re.search(rf'<strong>{refused}:</strong>(.*?)</div>', page, re.S))
    assert found, page[:500]
    return html.unescape(found.group(1)).strip()


def _in_language(browser: Browser, lang: str) -> Browser:
    browser.post_form("/language", {"lang": lang, "next": "/"}, page="/login")
    return browser


@pytest.fixture(scope="module")
def app(make_app: AppFactory) -> FastAPI:
    return make_app()


@pytest.fixture(scope="module")
def patients(app: FastAPI) -> dict[str, Browser]:
    """An English and a Russian patient on the same app."""
    browsers = {lang: Browser(TestClient(app)) for lang in ("en", "ru")}
    for lang, browser in browsers.items():
        browser.register(f"patient-{lang}")
        _in_language(browser, lang)
    return browsers


def _half_second_csv(header: Path) -> bytes:
    record = read_ecg(header)
    rows = [f"{i / record.fs:.4f}," + ",".join(f"{v:.3f}" for v in record.signal[:, i])
            for i in range(int(record.fs / 2))]
    return ("time," + ",".join(record.leads) + "\n" + "\n".join(rows) + "\n").encode()


def _uploads(ptbxl_headers: list[Path], shared_data: Path) -> dict[str, tuple[list, str, str]]:
    """Bad uploads: (multipart files, the English message, the Russian one)."""
    header = next(h for h in ptbxl_headers if h.stem == "00001_hr")
    signal_bytes = header.with_suffix(".dat").read_bytes()
    formats = "hl7-aecg, dicom, scp-ecg, sierra, muse, edf, numpy, wfdb, matlab, csv"
    return {
        "truncated WFDB": ([("files", (header.name, header.read_bytes())), ("files", ("00001_hr.dat",
                                                                                     signal_bytes[:1000]))],
                           "00001_hr.dat is truncated: 1000 bytes, the header promises 120000",
                           "файл 00001_hr.dat обрезан: 1000 байт, а по заголовку должно быть 120000"),
        "not an ECG": ([("files", ("invoice.pdf", (shared_data / "README.md").read_bytes()))],
                       f"invoice.pdf: unknown ECG format (supported: {formats})",
                       f"invoice.pdf: формат ЭКГ не распознан (поддерживаются: {formats})"),
        "npz bomb": ([("files", ("bomb.npz", npz_bomb()))],
                     "bomb.npz: its arrays inflate to 383778944 bytes; the limit is 96000000",
                     "bomb.npz: его массивы распаковываются в 383778944 байт; допускается не больше 96000000"),
        "empty file": ([("files", ("ЭКГ Иванова.dat", b""))], "the file 'ЭКГ Иванова.dat' is empty",
                       "файл «ЭКГ Иванова.dat» пуст"),
        "file of no record": (wfdb_files(header) + [("files", ("x.html", b"<p>hi</p>"))],
                              "not part of the WFDB record 00001_hr.hea: x.html; upload only the header and the "
                              "signal files it names",
                              "не относятся к записи WFDB 00001_hr.hea: x.html; загрузите только заголовок и "
                              "названные в нём файлы сигнала"),
        "two records": ([("files", ("a.edf", b"abc")), ("files", ("b.xml", b"abc"))],
                        "upload one ECG file, or a WFDB record as its .hea file with its .dat/.mat file (got a.edf, "
                        "b.xml)",
                        "загрузите один файл ЭКГ или запись WFDB — её файл .hea вместе с файлом .dat/.mat "
                        "(получено: a.edf, b.xml)"),
        "header alone": ([("files", (header.name, header.read_bytes()))],
                         "00001_hr.hea: signal file 00001_hr.dat is missing",
                         "00001_hr.hea: нет файла сигнала 00001_hr.dat"),
        "half a second": ([("files", ("short.csv", _half_second_csv(header)))],
                          "record is 0.50 s long; at least 2 s are needed",
                          "длительность записи 0.50 с; нужно не меньше 2 с"),
        "damaged NumPy": ([("files", ("x.npy", b"\x93NUMPY\x01\x00" + b"\xff" * 100))],
                          "x.npy: cannot read NumPy array: EOF: reading array header, expected 65535 bytes got 98",
                          "x.npy: файл повреждён, прочитать его не удалось"),
    }


def test_every_upload_refusal_reads_in_the_pages_language(patients: dict[str, Browser], ptbxl_headers: list[Path],
                                                          shared_data: Path) -> None:
    refused_ru = STRINGS["ru"]["upload_refused"].split("{", 1)[0]
    for case, (files, english, russian) in _uploads(ptbxl_headers, shared_data).items():
        names = [name for _, (name, _) in files]
        shown = {}
        for lang, browser in patients.items():
            response = browser.upload(files)
            assert response.status_code == 400, (case, lang, response.text[:300])
            shown[lang] = _alert(response.text)
        assert shown["en"] == f"The file was not accepted: {english}", case
        assert shown["ru"] == f"{refused_ru}{russian}", case
        assert not _english_words(shown["ru"], *names), (case, shown["ru"])


def test_analysis_refusals_and_failures_read_in_russian(patients: dict[str, Browser], ptbxl_headers: list[Path],
                                                        shared_data: Path) -> None:
    """A two-lead MIT-BIH record (analysis fails: no 12 leads), PTB-XL 1 with eight leads flat (quality refusal)
    and with V1-V3 flat (too few leads for the classifier)."""
    header = next(h for h in ptbxl_headers if h.stem == "00001_hr")
    twelve = [f"L{i}" for i in range(12)]
    lacking = "['I', 'II', 'III', 'aVR', 'aVL', 'aVF', 'V1', 'V2', 'V3', 'V4', 'V6']"
    cases = {
        "two leads": (wfdb_files(shared_data / "mitdb" / "100.hea"),
                      f"ECGFormatError: record lacks leads {lacking} (has ['MLII', 'V5']); a 12-lead analysis needs "
                      "at least ['I', 'II', 'V1', 'V2', 'V3', 'V4', 'V6']",
                      f"в записи нет отведений {lacking} (есть ['MLII', 'V5']); для анализа в 12 отведениях нужны как "
                      "минимум ['I', 'II', 'V1', 'V2', 'V3', 'V4', 'V6']"),
        "eight leads flat": (zeroed_files(header, ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2")),
                             "signal quality too poor: only 4 of 12 leads are usable; flat line: I, II, III, aVR, "
                             "aVL, aVF, V1, V2",
                             "качество сигнала слишком низкое: пригодны только 4 из 12 отведений; прямая линия: I, "
                             "II, III, aVR, aVL, aVF, V1, V2"),
        "three leads flat": (zeroed_files(header, ("V1", "V2", "V3")),
                             too_many_left_out(("V1", "V2", "V3"), twelve, "en"),
                             too_many_left_out(("V1", "V2", "V3"), twelve, "ru")),
    }
    for case, (files, english, russian) in cases.items():
        for lang, expected in (("en", english), ("ru", russian)):
            uploaded = patients[lang].upload(files)
            assert uploaded.status_code == 200, (case, uploaded.text[:300])
            assert _study_message(uploaded.text, lang) == expected, case
            if lang == "ru":  # nowhere else on the page either (the interpretation gives the refusal as evidence)
                assert english.removeprefix("ECGFormatError: ") not in html.unescape(uploaded.text), case
        assert not _english_words(russian), (case, russian)


def test_an_analysis_past_its_time_limit_reads_in_russian(make_app: AppFactory, ptbxl_headers: list[Path],
                                                         tmp_path: Path) -> None:
    """A real PTB-XL record repeated to ten minutes reads within a 0.5 s limit in a fresh worker (a worker's start is
    not counted), but its analysis takes longer (there, without the models warmed at server start: loading the
    Analyzer took 0.2 s and analysing the record 1.3 s on a quiet machine): the study is stored, failed, with the
    sandbox's message, in the page's language."""
    record = read_ecg(ptbxl_headers[0])
    header = write_ecg(dataclasses.replace(record, signal=np.tile(record.signal, (1, 60))), tmp_path / "long.hea")
    patient = Browser(TestClient(make_app(analysis_timeout_s=0.5)))
    patient.register("patient")
    uploaded = patient.upload(wfdb_files(header))
    assert uploaded.status_code == 200, uploaded.text[:300]
    # the wall-clock limit, or the CPU limit of 1 s where the analysis's threads use more than one core
    wordings = {"stopped after 0.5 s (the time limit)": "остановлено через 0.5 с (ограничение времени)",
                "the worker died (killed by signal SIGXCPU)": "рабочий процесс аварийно завершён (сигнал SIGXCPU)"}
    english = _study_message(uploaded.text, "en")
    assert english in wordings
    page = _in_language(patient, "ru").client.get(str(uploaded.url)).text
    assert _study_message(page, "ru") == wordings[english]


@pytest.mark.parametrize(("message", "russian"), [
    ("CardioScreenError: ran out of memory (limit 1152 MiB)", "не хватило памяти (ограничение 1152 МиБ)"),
    ("the worker died (killed by signal SIGXCPU)", "рабочий процесс аварийно завершён (сигнал SIGXCPU)"),
    ("the worker died (exit status 1)", "рабочий процесс аварийно завершён (код выхода 1)"),
    ("x.mat could not be read as an ECG: the worker died (killed by signal SIGSEGV)",
     "x.mat не удалось прочитать как ЭКГ: рабочий процесс аварийно завершён (сигнал SIGSEGV)"),
])
def test_the_sandboxs_other_failures_read_in_russian(message: str, russian: str) -> None:
    """The sandbox's messages as tests/web/test_web_sandbox.py gets them from real workers (a study stores
    ``CardioScreenError: ...`` for an analysis out of memory; a reader's crash is refused naming the file)."""
    assert word_message(message, "ru") == russian and word_message(message, "en") == message


def test_registration_refusals_read_in_russian(app: FastAPI, patients: dict[str, Browser]) -> None:
    """The account rules' refusals on the Russian registration page (a visitor who chose Russian)."""
    visitor = _in_language(Browser(TestClient(app)), "ru")
    cases = {("newcomer", "12345678"): "пароль должен быть не короче 10 символов",
             ("newcomer", "aaaaaaaaaaaa"): "в пароле должно быть не меньше 5 разных символов",
             ("аdmin", "correct horse 2"): "в имени пользователя смешаны буквы разных алфавитов",
             ("patient-en", "correct horse 2"): "имя пользователя «patient-en» уже занято"}
    for (username, password), russian in cases.items():
        response = visitor.register(username, password=password)
        assert response.status_code == 400, (username, response.text[:300])
        assert _alert(response.text) == russian
        assert not _english_words(russian, "patient-en")


def test_the_message_catalogues_match() -> None:
    """Both catalogues word the same messages; a Russian entry shows only values the English one reads (the
    analysis' refusals, worded by the report's strings, are checked in tests/report/test_refusal_language.py)."""
    assert set(MESSAGES["en"]) == set(MESSAGES["ru"])
    for key, english in MESSAGES["en"].items():
        assert set(re.findall(r"{(\w+)}", MESSAGES["ru"][key])) <= set(re.findall(r"{(\w+)}", english)), key


def test_a_message_no_entry_matches_still_reads_in_russian() -> None:
    assert word_message("ЭКГ 2024.scp: section 9 is odd", "ru") == STRINGS["ru"]["message_unreadable_file"].format(
        file="ЭКГ 2024.scp")
    assert word_message("ValueError: math domain error", "ru") == "внутренняя ошибка (ValueError)"
    assert word_message("x.dat could not be read as an ECG: something new", "ru") == (
        "x.dat не удалось прочитать как ЭКГ: " + STRINGS["ru"]["message_unreadable"])
    assert word_message("something new", "ru") == STRINGS["ru"]["message_unreadable"]
    assert word_message("something new", "en") == "something new" and word_message(None, "ru") == ""


def test_a_refusal_the_page_worded_itself_is_shown_as_it_is() -> None:
    """The conclusion form's refusal comes worded by the page's catalogue (``verdicts_missing``), codes and all."""
    t = translator("ru")
    for text in (t("verdicts_missing", codes="NORM, IMI"), t("too_many_attempts", minutes=15), t("wrong_password")):
        assert word_message(text, "ru") == text


def test_the_administrators_refusals_read_in_russian(app: FastAPI) -> None:
    """The users page's refusals (creating a user, resetting a password, taking away one's own access) and the
    filters' date refusal on the audit and queue pages, on Russian pages, with no English word left."""
    add_user(app, "chief-ru", "admin")
    add_user(app, "doctor-ru", "doctor")
    admin, doctor = Browser(TestClient(app)), Browser(TestClient(app))
    admin.login("chief-ru")
    doctor.login("doctor-ru")
    _in_language(admin, "ru")
    _in_language(doctor, "ru")
    new = {"full_name": "", "language": "ru", "role": "doctor", "password": "correct horse 2"}
    cases = {"weak password": ({**new, "username": "newdoc", "password": "12345678"},
                               "пароль должен быть не короче 10 символов"),
             "name taken": ({**new, "username": "doctor-ru"}, "имя пользователя «doctor-ru» уже занято"),
             "mixed scripts": ({**new, "username": "аdmin"}, "в имени пользователя смешаны буквы разных алфавитов"),
             "unknown role": ({**new, "username": "newdoc", "role": "root"},
                              "неизвестная роль 'root'; допустимы: ['patient', 'doctor', 'admin']"),
             "unknown language": ({**new, "username": "newdoc", "language": "de"},
                                  "неизвестный язык 'de'; допустимы: ['en', 'ru']")}
    for case, (form, russian) in cases.items():
        response = admin.post_form("/admin/users", form, page="/admin/users")
        assert response.status_code == 400, (case, response.text[:300])
        assert _alert(response.text) == russian, case
        assert not _english_words(russian, "doctor-ru", "root", "patient", "doctor", "admin"), case
    with app.state.session_factory() as db:
        ids = {u.username: u.id for u in db.scalars(select(User))}
    reset = admin.post_form(f"/admin/users/{ids['doctor-ru']}", {"role": "doctor", "active": "on",
                                                                  "password": "aaaaaaaaaaaa"}, page="/admin/users")
    assert reset.status_code == 400 and _alert(reset.text) == "в пароле должно быть не меньше 5 разных символов"
    own = admin.post_form(f"/admin/users/{ids['chief-ru']}", {"role": "doctor", "active": "on"}, page="/admin/users")
    assert own.status_code == 400 and _alert(own.text) == STRINGS["ru"]["own_admin_access"]
    for browser, path in ((admin, "/admin/audit?since=yesterday"), (doctor, "/queue?until=2026-13-40")):
        response = browser.client.get(path)
        assert response.status_code == 400 and response.headers["content-type"].startswith("text/html"), path
        assert _alert(response.text) == STRINGS["ru"]["bad_dates"]
    assert not _english_words(STRINGS["ru"]["own_admin_access"] + STRINGS["ru"]["bad_dates"])
    api = TestClient(app).get("/api/queue?since=yesterday", headers=_token(TestClient(app), "doctor-ru"))
    assert api.status_code == 400 and api.json()["detail"].startswith("dates are YYYY-MM-DD")  # the API: English


def test_a_forms_invalid_fields_read_in_the_pages_language(app: FastAPI) -> None:
    """A form field past its length and a missing one (FastAPI's request validation) on the users page: in Russian
    on a Russian page, in English on an English one; the API keeps its JSON."""
    add_user(app, "chief-fields", "admin")
    admin = Browser(TestClient(app))
    admin.login("chief-fields")
    form = {"username": "x" * 201, "password": "correct horse 2", "language": "ru"}  # no role
    expected = {"ru": "поле «username»: не более 200 символов; поле «role»: обязательно",
                "en": "field 'username': at most 200 characters; field 'role': required"}
    for lang, text in expected.items():
        _in_language(admin, lang)
        response = admin.post_form("/admin/users", form, page="/admin/users")
        assert response.status_code == 400 and response.headers["content-type"].startswith("text/html")
        assert _alert(response.text) == text, lang
    assert not _english_words(expected["ru"], "username", "role")


def test_the_conclusion_forms_refusals_read_in_russian(app: FastAPI, patients: dict[str, Browser],
                                                       ptbxl_headers: list[Path]) -> None:
    """A flagged class without a verdict, an empty conclusion and a study another doctor concluded first, on the
    Russian study page."""
    add_user(app, "doctor-a", "doctor")
    add_user(app, "doctor-b", "doctor")
    header = next(h for h in ptbxl_headers if h.stem == "00001_hr")
    uploaded = patients["en"].upload(wfdb_files(header))
    assert uploaded.status_code == 200, uploaded.text[:300]
    sid = int(str(uploaded.url).rsplit("/", 1)[1])
    with app.state.session_factory() as db:
        flagged = sorted({p["code"] for p in db.get(Study, sid).result["predictions"] if p["flagged"]})
    assert flagged
    doctor = Browser(TestClient(app))
    doctor.login("doctor-a")
    _in_language(doctor, "ru")
    verdicts = {f"verdict_{code}": "agree" for code in flagged}
    cases = {"no verdicts": ({"text": "Синусовый ритм."},
                             STRINGS["ru"]["verdicts_missing"].format(codes=", ".join(flagged))),
             "empty": ({"text": "   ", **verdicts}, MESSAGES["ru"]["conclusion_empty"])}
    for case, (form, russian) in cases.items():
        response = doctor.post_form(f"/studies/{sid}/conclusion", form, page=f"/studies/{sid}")
        assert response.status_code == 400, (case, response.text[:300])
        assert _alert(response.text) == russian, case
    api = TestClient(app)
    first = api.post(f"/api/studies/{sid}/conclusion", headers=_token(api, "doctor-b"),
                     json={"text": "Normal ECG.", "verdicts": dict.fromkeys(flagged, True)})
    assert first.status_code == 201, first.text
    late = doctor.post_form(f"/studies/{sid}/conclusion", {"text": "Синусовый ритм.", **verdicts},
                            page="/queue")
    assert late.status_code == 400
    assert _alert(late.text) == MESSAGES["ru"]["already_concluded"].format(id=sid)
    assert "Normal ECG." in late.text  # the other doctor's conclusion is shown below the refusal
    for russian in (*(r for _, r in cases.values()), _alert(late.text)):
        assert not _english_words(russian, *flagged), russian
