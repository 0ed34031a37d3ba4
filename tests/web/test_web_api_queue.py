"""``GET /api/queue`` is paged and filtered like the queue page (issue 14, item 7): real uploads (PTB-XL 1 normal,
321 AF, LUDB 1) plus copies of their results, read page by page through the ``next`` links, on SQLite and
PostgreSQL."""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cardioscreen.web import crud
from cardioscreen.web.models import Study, User
from cardioscreen.web.routes.api import MAX_PER_PAGE

from .conftest import BACKENDS, AppFactory, add_user
from .support import PASSWORD, Browser, wfdb_files

COPIES = 8
"""Studies added beside the three uploads (copies of their real results): 11 in all, 3 pages of 4."""


@dataclass
class Queue:
    app: FastAPI
    client: TestClient
    auth: dict[str, str]
    doctor: Browser
    ids: dict[str, int]


@pytest.fixture(scope="module", params=BACKENDS)
def queue(request: pytest.FixtureRequest, make_app: AppFactory, ptbxl_headers: list[Path],
          shared_data: Path) -> Queue:
    app = make_app(request.param)
    headers = {h.stem: h for h in ptbxl_headers}
    anna, boris = Browser(TestClient(app)), Browser(TestClient(app))
    anna.register("anna", full_name="Anna Petrova")
    boris.register("boris", full_name="Boris Sokolov")
    ids = {}
    for key, browser, files in (("normal", anna, wfdb_files(headers["00001_hr"])),
                                ("af", anna, wfdb_files(headers["00321_hr"])),
                                ("ludb", boris, wfdb_files(shared_data / "ludb" / "1.hea"))):
        response = browser.upload(files)
        assert response.status_code == 200, response.text[:300]
        ids[key] = int(str(response.url).rsplit("/", 1)[1])
    with app.state.session_factory() as db:
        owner = db.scalar(select(User).where(User.username == "anna"))
        originals = [db.get(Study, ids[key]) for key in ("normal", "af")]
        for i in range(COPIES):
            source, key = originals[i % 2], uuid.uuid4().hex
            shutil.copytree(app.state.store.folder(source.storage_key), app.state.store.folder(key))
            ids[f"copy{i}"] = crud.add_study(db, owner, storage_key=key, original_filename=f"copy{i}.hea",
                                             status=source.status, result=source.result, error=None).id
        db.commit()
    add_user(app, "drsmith", "doctor")
    client = TestClient(app)
    token = client.post("/api/token", data={"username": "drsmith", "password": PASSWORD}).json()["access_token"]
    doctor = Browser(TestClient(app))
    doctor.login("drsmith")
    return Queue(app, client, {"Authorization": f"Bearer {token}"}, doctor, ids)


def _walk(queue: Queue, query: str, per_page: int = 4) -> list[int]:
    """Every study id of the API queue with ``query``, in order, following the ``next`` links from page 1."""
    url: str | None = f"/api/queue?{query}&per_page={per_page}"
    ids: list[int] = []
    for _ in range(20):
        response = queue.client.get(url, headers=queue.auth)  # type: ignore[arg-type]
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        assert len(body["items"]) <= per_page and body["pages"] == max(1, -(-body["total"] // per_page))
        ids += [item["id"] for item in body["items"]]
        url = body["next"]
        if url is None:
            assert len(ids) == body["total"]
            return ids
        assert url.startswith("/api/queue?") and f"page={body['page'] + 1}" in url
    raise AssertionError("more pages than studies")


def _html_queue(queue: Queue, query: str) -> list[int]:
    """The study ids of the queue page with ``query`` (all fit on its first page here), in order."""
    page = queue.doctor.client.get(f"/queue?{query}")
    assert page.status_code == 200 and 'rel="next"' not in page.text
    return [int(i) for i in re.findall(r"<td>(\d+)</td>", page.text)]


def test_pages_follow_the_queue_order_with_total_and_links(queue: Queue) -> None:
    first = queue.client.get("/api/queue?per_page=4", headers=queue.auth).json()
    assert (first["total"], first["page"], first["per_page"], first["pages"]) == (len(queue.ids), 1, 4, 3)
    assert first["previous"] is None and first["next"] == "/api/queue?page=2&per_page=4"
    last = queue.client.get(first["next"].replace("page=2", "page=3"), headers=queue.auth).json()
    assert len(last["items"]) == len(queue.ids) - 8 and last["next"] is None
    assert last["previous"] == "/api/queue?page=2&per_page=4"
    walked = _walk(queue, "")
    assert walked == _html_queue(queue, "") and sorted(walked) == sorted(queue.ids.values())
    assert {"id", "status", "urgent", "urgent_reasons", "flagged_codes", "reviewed"} <= set(first["items"][0])
    beyond = queue.client.get("/api/queue?page=9&per_page=4", headers=queue.auth).json()
    assert beyond["items"] == [] and beyond["total"] == len(queue.ids) and beyond["next"] is None
    default = queue.client.get("/api/queue", headers=queue.auth).json()
    assert default["per_page"] == 50 and [s["id"] for s in default["items"]] == walked


def test_the_filters_and_search_of_the_queue_page(queue: Queue) -> None:
    with queue.app.state.session_factory() as db:
        studies = {s.id: s for s in db.scalars(select(Study))}
    code = studies[queue.ids["af"]].flagged_codes.split(",")[0]
    today = date.today()
    queries = [f"code={code}", "patient=sokolov", f"q=%23{queue.ids['copy3']}", "q=copy", "quality=usable",
               "status=failed", f"since={today - timedelta(days=1)}&until={today + timedelta(days=1)}",
               f"since={today + timedelta(days=2)}", f"code={code}&patient=petrova&q=copy"]
    for query in queries:
        assert _walk(queue, query, per_page=3) == _html_queue(queue, query), query
    assert set(_walk(queue, f"code={code}")) == {i for i, s in studies.items() if code in s.flagged_codes.split(",")}
    assert _walk(queue, "patient=sokolov") == [queue.ids["ludb"]]
    assert _walk(queue, f"q=%23{queue.ids['copy3']}") == [queue.ids["copy3"]]
    assert len(_walk(queue, "q=copy")) == COPIES and _walk(queue, f"since={today + timedelta(days=2)}") == []
    link = queue.client.get("/api/queue?patient=petrova&q=copy&per_page=2", headers=queue.auth).json()["next"]
    assert link == "/api/queue?patient=petrova&q=copy&page=2&per_page=2"


def test_the_concluded_list(queue: Queue) -> None:
    sid = queue.ids["ludb"]
    study = queue.client.get(f"/api/studies/{sid}", headers=queue.auth).json()
    verdicts = {code: True for code in study["flagged_codes"]}
    concluded = queue.client.post(f"/api/studies/{sid}/conclusion", json={"text": "Sinus rhythm.",
                                                                           "verdicts": verdicts}, headers=queue.auth)
    assert concluded.status_code == 201, concluded.text
    assert sid not in _walk(queue, "")
    assert _walk(queue, "view=concluded") == [sid] == _html_queue(queue, "view=concluded")
    assert _walk(queue, "view=concluded&patient=petrova") == []


def test_bad_paging_and_filters_are_refused(queue: Queue) -> None:
    get = queue.client.get
    assert get(f"/api/queue?per_page={MAX_PER_PAGE + 1}", headers=queue.auth).status_code == 422
    for query in ("per_page=0", "page=0", "page=x", "view=all", f"q={'x' * 201}"):
        assert get(f"/api/queue?{query}", headers=queue.auth).status_code == 422, query
    refused = get("/api/queue?since=yesterday", headers=queue.auth)
    assert refused.status_code == 400 and "YYYY-MM-DD" in refused.json()["detail"]
    assert get("/api/queue").status_code == 401
    token = queue.client.post("/api/token", data={"username": "anna", "password": PASSWORD}).json()["access_token"]
    assert get("/api/queue", headers={"Authorization": f"Bearer {token}"}).status_code == 403
