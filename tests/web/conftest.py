"""Fixtures of the web tests: an isolated database (SQLite file or a real PostgreSQL server), the app, users."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cardioscreen.web import crud
from cardioscreen.web.analysis import AnalyzeFn, PipelineAnalysis
from cardioscreen.web.main import create_app
from cardioscreen.web.settings import WebSettings

from .pgserver import TemporaryPostgres
from .support import PASSWORD, Browser

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[TemporaryPostgres]:
    server = TemporaryPostgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def analyze() -> AnalyzeFn:
    """The real analysis: the pipeline's Analyzer with the shipped model (loaded once per test process)."""
    return PipelineAnalysis()


@pytest.fixture(scope="session")
def explain() -> AnalyzeFn:
    """The real analysis with per-class saliency (for plots and reports)."""
    return PipelineAnalysis(explain=True)


@pytest.fixture(scope="session")
def ptbxl_headers(ptbxl_dir: Path) -> list[Path]:
    return sorted((ptbxl_dir / "records500").rglob("*_hr.hea"))


AppFactory = Callable[..., FastAPI]


@pytest.fixture(scope="module")
def make_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             analyze: AnalyzeFn, explain: AnalyzeFn) -> Iterator[AppFactory]:
    """``make_app(backend, **settings)``: an app on a fresh database of that backend in a fresh data folder (its
    sandbox workers are stopped after the module)."""
    apps: list[FastAPI] = []

    def factory(backend: str = "sqlite", analysis: AnalyzeFn | None = None, **overrides: object) -> FastAPI:
        data_dir = tmp_path_factory.mktemp("web")
        url = request.getfixturevalue("postgres").create_database() if backend == "postgresql" else None
        settings = WebSettings(data_dir=data_dir, database_url=url, session_secret=secrets.token_urlsafe(40),
                               **overrides)
        apps.append(create_app(settings, analyze=analysis or analyze, explain=explain))
        return apps[-1]

    yield factory
    for app in apps:
        app.state.sandbox.close()


def add_user(app: FastAPI, username: str, role: str, full_name: str = "") -> None:
    with app.state.session_factory() as db:
        crud.create_user(db, username, PASSWORD, role=role, full_name=full_name)
        db.commit()


@pytest.fixture
def browser_for() -> Iterator[Callable[[FastAPI], Browser]]:
    """``browser_for(app)``: a new signed-out browser session on ``app`` (closed after the test)."""
    clients: list[TestClient] = []

    def open_browser(app: FastAPI) -> Browser:
        client = TestClient(app)
        clients.append(client)
        return Browser(client)

    yield open_browser
    for client in clients:
        client.close()
