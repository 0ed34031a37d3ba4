"""The app factory: ``create_app(settings)`` builds the FastAPI app (pages, JSON API, static files).

Run it with ``cardioscreen serve``, or with any ASGI server as the factory ``cardioscreen.web.main:app_from_env``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from cardioscreen import __version__
from cardioscreen.errors import CardioScreenError
from cardioscreen.web import crud
from cardioscreen.web.analysis import AnalyzeFn
from cardioscreen.web.db import create_db_engine, make_session_factory, migrate
from cardioscreen.web.deps import CSRFError, LoginRequiredError
from cardioscreen.web.head import HeadAsGetMiddleware
from cardioscreen.web.headers import SecurityHeadersMiddleware
from cardioscreen.web.i18n import invalid_fields
from cardioscreen.web.intake import Intake
from cardioscreen.web.jobs.saliency import QueuedSaliency
from cardioscreen.web.limits import BodyLimitMiddleware, UploadTooLargeError
from cardioscreen.web.models import Role
from cardioscreen.web.rendering import SandboxSaliency
from cardioscreen.web.routes import admin, api, auth, models, progress, queue, studies
from cardioscreen.web.sandbox import build_sandbox
from cardioscreen.web.security import random_password
from cardioscreen.web.settings import WebSettings
from cardioscreen.web.storage import StudyStore
from cardioscreen.web.templating import TEMPLATES, page_language, render

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
SESSION_COOKIE = "cardioscreen_session"
BOOTSTRAP_ADMIN = "admin"
DOCS_PATH = "/api/docs"
GUIDE_PATH = "/guide"
"""Where the built documentation site is served (its Russian guide under ``ru/``)."""
OPENAPI_PATH = "/api/openapi.json"


def init_database(settings: WebSettings) -> tuple[sessionmaker[Session], str | None]:
    """Migrate the database; on first start create the ``admin`` user with a random password.

    Returns
    -------
    session_factory : sessionmaker
    admin_password : str or None
        The new administrator's password (show it once), or None when users already existed.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.resolved_database_url())
    migrate(engine)
    factory = make_session_factory(engine)
    with factory() as db:
        if crud.count_users(db):
            return factory, None
        password = random_password()
        try:
            crud.create_user(db, BOOTSTRAP_ADMIN, password, role=Role.ADMIN.value)
        except crud.UserExistsError:  # another worker process created it at the same moment
            return factory, None
        crud.record_event(db, "user_created", subject=BOOTSTRAP_ADMIN, detail={"role": Role.ADMIN.value})
        db.commit()
    return factory, password


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api")


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequiredError)
    async def login_required(request: Request, exc: LoginRequiredError) -> Response:
        """To the sign-in form, which returns to the page asked for (a page, not a form's target)."""
        asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = f"/login?{urlencode({'next': asked})}" if request.method == "GET" and asked != "/" else "/login"
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)

    @app.exception_handler(CSRFError)
    async def csrf_failed(request: Request, exc: CSRFError) -> Response:
        return render(request, "error.html", {"message_key": "csrf_failed"}, status_code=status.HTTP_403_FORBIDDEN)

    @app.exception_handler(UploadTooLargeError)
    async def too_large(request: Request, exc: UploadTooLargeError) -> Response:
        limit_mb = request.app.state.settings.max_upload_mb
        if _wants_json(request):
            return JSONResponse({"detail": f"upload larger than {limit_mb} MB"},
                                status_code=status.HTTP_413_CONTENT_TOO_LARGE, headers={"Connection": "close"})
        return render(request, "error.html", {"message_key": "upload_too_large", "values": {"limit": limit_mb}},
                      status_code=status.HTTP_413_CONTENT_TOO_LARGE)

    @app.exception_handler(StarletteHTTPException)  # FastAPI's HTTPException and the router's own 404 and 405
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request) or exc.status_code not in (403, 404):
            return await http_exception_handler(request, exc)
        key = "forbidden" if exc.status_code == 403 else "not_found"
        return render(request, "error.html", {"message_key": key}, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return await request_validation_exception_handler(request, exc)
        return render(request, "error.html", {"message_text": invalid_fields(exc.errors(), page_language(request))},
                      status_code=status.HTTP_400_BAD_REQUEST)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """At server start, start the sandbox's workers and load the models in them, off the event loop (a model that
    fails to load is logged, not fatal; with a job queue the ``cardioscreen worker`` processes analyse, re-analyse
    and explain, and this process starts none); at shutdown (SIGTERM), kill them, so that requests waiting on a job
    end at once."""
    if not app.state.settings.job_queue:
        await run_in_threadpool(app.state.sandbox.start)
    try:
        yield
    finally:
        app.state.sandbox.close()


def create_app(settings: WebSettings | None = None, analyze: AnalyzeFn | None = None,
               explain: AnalyzeFn | None = None) -> FastAPI:
    """Build the web app.

    Parameters
    ----------
    settings : WebSettings, optional
        Default: read from the ``CARDIOSCREEN_*`` environment.
    analyze : callable, optional
        ``analyze(record) -> AnalysisResult`` run on each upload; default the pipeline's Analyzer with the
        configured (or shipped) model. Pickled into the sandbox's worker processes, which run it (with
        ``settings.job_queue`` the ``cardioscreen worker`` processes analyse instead, see :mod:`.jobs`).
    explain : callable, optional
        The same with per-class saliency, run when a study's plot or report is first asked for; default the
        Analyzer with explanations on.
    """
    settings = settings or WebSettings()
    if settings.job_queue and settings.uses_sqlite():
        raise CardioScreenError("CARDIOSCREEN_JOB_QUEUE needs PostgreSQL (CARDIOSCREEN_DATABASE_URL); with SQLite "
                                "the web app analyses each upload itself")
    factory, admin_password = init_database(settings)
    if admin_password is not None:
        logger.warning("created the administrator %r with password %s (shown once; change it)", BOOTSTRAP_ADMIN,
                       admin_password)
    app = FastAPI(title="CardioScreen", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=OPENAPI_PATH, lifespan=_lifespan,
                  description="12-lead ECG screening for clinics. Research use only — not a medical device.")
    app.state.settings = settings
    app.state.session_factory = factory
    app.state.store = StudyStore(settings.studies_dir, settings.staging_dir)
    app.state.sandbox = build_sandbox(settings, analyze, explain)
    app.state.intake = Intake(app.state.store, app.state.sandbox, queued=settings.job_queue)
    app.state.saliency = (QueuedSaliency(factory, wait_s=settings.analysis_timeout_s + settings.job_lease_s)
                          if settings.job_queue else SandboxSaliency(app.state.store, app.state.sandbox))
    app.add_middleware(HeadAsGetMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    # deps.session_user checks the session's epoch, absolute lifetime and idle time, all signed into the cookie.
    app.add_middleware(SessionMiddleware, secret_key=settings.resolved_session_secret(), session_cookie=SESSION_COOKIE,
                       max_age=settings.session_max_age_s, same_site="lax", https_only=settings.secure_cookies)
    if settings.proxy_headers:  # outermost: every part of the app sees the client's address, not the proxy's
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.docs_dir is not None:
        if not (settings.docs_dir / "index.html").is_file():
            raise CardioScreenError(f"CARDIOSCREEN_DOCS_DIR {settings.docs_dir} holds no built site (index.html); "
                                    "build it with `make docs`")
        app.mount(GUIDE_PATH, StaticFiles(directory=settings.docs_dir, html=True), name="guide")
    for module in (auth, studies, queue, admin, models, progress, api):
        app.include_router(module.router)
    app.add_api_route(DOCS_PATH, _api_docs, include_in_schema=False)
    _install_error_pages(app)
    return app


def _api_docs(request: Request) -> Response:
    """Swagger UI over the OpenAPI schema, from the app's own static files (no script from another origin)."""
    return TEMPLATES.TemplateResponse(request, "api_docs.html", {"openapi_url": OPENAPI_PATH})


def app_from_env() -> FastAPI:
    """ASGI factory for servers (``uvicorn --factory cardioscreen.web.main:app_from_env``)."""
    return create_app()
