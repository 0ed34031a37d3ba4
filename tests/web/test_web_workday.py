"""Issue 14, items 8 and 9, on a fresh app: earlier studies are earlier ones; unknown URLs get a page (JSON under
/api); HEAD where GET is; sign-in returns to the page asked for (only a path on this site); personal answers are not
stored by caches; Unicode file names kept; confusable user names and weak passwords refused at registration."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cardioscreen.web.models import Study, User

from .conftest import AppFactory, add_user
from .support import PASSWORD, Browser, wfdb_files

CYRILLIC_NAME = "ЭКГ Иванова 2024.dcm"


@dataclass
class Clinic:
    app: FastAPI
    patient: Browser
    doctor: Browser
    studies: list[int]


def _study_id(response) -> int:
    assert response.status_code == 200, response.text[:300]
    return int(str(response.url).rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def clinic(make_app: AppFactory, ptbxl_headers: list[Path], shared_data: Path) -> Clinic:
    app = make_app()
    patient = Browser(TestClient(app))
    patient.register("pat-day")
    studies = [_study_id(patient.upload(wfdb_files(h))) for h in ptbxl_headers[:2]]
    dicom = (shared_data / "formats" / "dicom" / "ecgtoolkit_example.dcm").read_bytes()
    studies.append(_study_id(patient.upload([("files", (CYRILLIC_NAME, dicom))])))
    add_user(app, "dr-day", "doctor")
    doctor = Browser(TestClient(app))
    doctor.login("dr-day")
    return Clinic(app, patient, doctor, studies)


def test_earlier_studies_are_only_the_earlier_ones(clinic: Clinic) -> None:
    first, middle, last = clinic.studies
    listed = {sid: re.findall(r'<a class="btn btn-small" href="/studies/(\d+)"',
                              clinic.doctor.client.get(f"/studies/{sid}").text) for sid in clinic.studies}
    assert listed == {first: [], middle: [str(first)], last: [str(middle), str(first)]}


def test_unknown_urls_get_a_page_and_json_only_under_api(clinic: Clinic) -> None:
    page = clinic.doctor.client.get("/no/such/page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert '{"detail"' not in page.text and "<html" in page.text
    api = clinic.doctor.client.get("/api/no-such-thing")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


def test_head_where_get_is(clinic: Clinic) -> None:
    anonymous = TestClient(clinic.app)
    login = anonymous.head("/login")
    assert login.status_code == 200 and login.content == b"" and login.headers["content-type"].startswith("text/html")
    assert int(login.headers["content-length"]) == len(anonymous.get("/login").content)
    assert anonymous.head("/api/me").status_code == 401
    study = clinic.doctor.client.head(f"/studies/{clinic.studies[0]}")
    assert study.status_code == 200 and study.content == b""
    assert anonymous.head("/logout").status_code == 405


def test_sign_in_from_a_link_returns_to_that_study(clinic: Clinic) -> None:
    sid = clinic.studies[1]
    browser = Browser(TestClient(clinic.app))
    asked = browser.client.get(f"/studies/{sid}", follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"] == f"/login?next={quote(f'/studies/{sid}', '')}"
    form = browser.client.get(asked.headers["location"]).text
    assert f'name="next" value="/studies/{sid}"' in form
    landed = browser.post_form("/login", {"username": "dr-day", "password": PASSWORD, "next": f"/studies/{sid}"})
    assert landed.status_code == 200 and str(landed.url).endswith(f"/studies/{sid}")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\t/evil.example", "\\\\evil.example",
                                    "/\\evil.example", "javascript:alert(1)", "/%0d%0aSet-Cookie:x"])
def test_sign_in_never_redirects_off_site(clinic: Clinic, target: str) -> None:
    browser = Browser(TestClient(clinic.app))
    landed = browser.post_form("/login", {"username": "dr-day", "password": PASSWORD, "next": target})
    if target.startswith("/%0d"):  # a local path, merely odd: allowed (the %-escapes stay escapes)
        assert landed.url.host == "testserver"
        return
    assert landed.status_code == 200 and str(landed.url) == "http://testserver/queue"
    form = browser.client.get("/login", params={"next": target}).text
    values = re.findall(r'name="next" value="([^"]*)"', form)
    assert values and all("evil" not in value and "alert" not in value for value in values)


def test_personal_answers_are_not_stored_by_caches(clinic: Clinic) -> None:
    sid = clinic.studies[2]
    doctor = clinic.doctor.client
    page = doctor.get(f"/studies/{sid}")
    name = re.search(rf'/studies/{sid}/files/([^"]+)"', page.text)
    assert name
    answers = [page, doctor.get(f"/studies/{sid}/files/{name.group(1)}"), doctor.get(f"/studies/{sid}/report.pdf"),
               doctor.get(f"/api/studies/{sid}"), doctor.get("/api/me"), doctor.get("/queue")]
    for response in answers:
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store", response.url
    assert "no-store" not in doctor.get("/static/style.css").headers.get("cache-control", "")


def test_a_cyrillic_file_name_is_kept(clinic: Clinic) -> None:
    sid = clinic.studies[2]
    with clinic.app.state.session_factory() as db:
        study = db.get(Study, sid)
        assert study is not None and study.original_filename == CYRILLIC_NAME
    page = clinic.patient.client.get(f"/studies/{sid}").text
    assert f"/studies/{sid}/files/{quote(CYRILLIC_NAME)}" in page and CYRILLIC_NAME in page
    download = clinic.patient.client.get(f"/studies/{sid}/files/{quote(CYRILLIC_NAME)}")
    assert download.status_code == 200 and download.content[128:132] == b"DICM"
    assert quote(CYRILLIC_NAME) in download.headers["content-disposition"]


@pytest.mark.parametrize(("username", "password", "message"), [
    ("\u0430dmin", "a fine long phrase", "mixes letters of several scripts"),  # Cyrillic а + Latin dmin
    ("d\u043ector-x", "a fine long phrase", "mixes letters of several scripts"),  # Cyrillic о
    ("zero\u200bwidth", "a fine long phrase", "invisible"),
    ("weak-one", "12345678", "at least 10 characters"),
    ("weak-two", "1234567890", "most common"),
    ("weak-three", "Password2024!", "most common"),
    ("weak-four", "aaaaaaaaaaaa", "different characters"),
    ("weak-five", "weak-five-is-me", "user name"),
])
def test_registration_refuses_confusable_names_and_weak_passwords(clinic: Clinic, username: str, password: str,
                                                                  message: str) -> None:
    response = Browser(TestClient(clinic.app)).register(username, password=password)
    assert response.status_code == 400 and message in response.text
    with clinic.app.state.session_factory() as db:
        assert db.scalar(select(User).where(User.username == username.lower())) is None


def test_registration_accepts_one_script_names_and_folds_compatibility_forms(clinic: Clinic) -> None:
    assert Browser(TestClient(clinic.app)).register("иван.петров", password="ясный день 2024").status_code == 200
    twin = Browser(TestClient(clinic.app)).register("ｐａｔ－ｄａｙ", password="a fine long phrase")  # full-width
    assert twin.status_code == 400 and "already taken" in twin.text
    api = TestClient(clinic.app).post("/api/token", data={"username": "ＰＡＴ-DAY", "password": PASSWORD})
    assert api.status_code == 200
