"""Sign-in, registration (patients only), sign-out, the user's own password and the language switch."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from cardioscreen.errors import CardioScreenError
from cardioscreen.web import crud
from cardioscreen.web.deps import (
    CurrentUser,
    DbSession,
    Settings,
    client_address,
    csrf_protect,
    session_user,
    start_session,
)
from cardioscreen.web.models import LANGUAGES, Role
from cardioscreen.web.templating import flash, render
from cardioscreen.web.throttle import TooManyAttemptsError, WrongCredentialsError, sign_in

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

HOME_BY_ROLE = {Role.PATIENT.value: "/studies", Role.DOCTOR.value: "/queue", Role.ADMIN.value: "/admin/users"}


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def safe_next(url: str, default: str = "/") -> str:
    """``url`` when it is a path on this site (no scheme, no host, no backslash, no control or space character a
    browser would drop to make ``/\t/evil.example`` into ``//evil.example``), else ``default``."""
    parts = urlsplit(url)
    local = (url.startswith("/") and not url.startswith("//") and not parts.scheme and not parts.netloc
             and "\\" not in url and not any(c.isspace() or not c.isprintable() for c in url))
    return url if local else default


@router.get("/")
def home(request: Request, db: DbSession) -> Response:
    user = session_user(request, db)
    return _redirect(HOME_BY_ROLE[user.role] if user else "/login")


@router.get("/login")
def login_form(request: Request, next_url: Annotated[str, Query(alias="next", max_length=2000)] = "") -> Response:
    """The sign-in form; ``next``: the page to return to afterwards."""
    return render(request, "login.html", {"username": "", "next_url": safe_next(next_url, "")})


@router.post("/login")
def login(request: Request, db: DbSession, settings: Settings, username: Annotated[str, Form(max_length=200)],
          password: Annotated[str, Form(max_length=1000)],
          next_url: Annotated[str, Form(alias="next", max_length=2000)] = "") -> Response:
    """Sign in, then go to ``next`` when it is a path on this site, else to the user's home page."""
    client = client_address(request)
    back = {"username": username, "next_url": safe_next(next_url, "")}
    try:
        user = sign_in(db, settings, username, password, client)
    except TooManyAttemptsError:
        return render(request, "login.html", back | {"error": "too_many_attempts",
                                                     "minutes": max(1, settings.login_window_s // 60)},
                      status_code=status.HTTP_429_TOO_MANY_REQUESTS)
    except WrongCredentialsError:
        return render(request, "login.html", back | {"error": "bad_credentials"},
                      status_code=status.HTTP_401_UNAUTHORIZED)
    crud.record_event(db, "login", user=user, subject=user.username, client=client)
    db.commit()
    start_session(request, user)
    return _redirect(safe_next(next_url, HOME_BY_ROLE[user.role]))


@router.get("/register")
def register_form(request: Request) -> Response:
    return render(request, "register.html", {"form": {}})


@router.post("/register")
def register(request: Request, db: DbSession, username: Annotated[str, Form(max_length=200)],
             password: Annotated[str, Form(max_length=1000)], full_name: Annotated[str, Form(max_length=200)] = "",
             language: Annotated[str, Form()] = "en") -> Response:
    try:
        user = crud.create_user(db, username, password, role=Role.PATIENT.value, full_name=full_name,
                                language=language)
    except CardioScreenError as exc:
        return render(request, "register.html", {"form": {"username": username, "full_name": full_name},
                                                 "error_text": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)
    crud.record_event(db, "register", user=user, subject=user.username, client=client_address(request))
    db.commit()
    start_session(request, user)
    flash(request, "registered")
    return _redirect("/studies")


@router.post("/logout")
def logout(request: Request, db: DbSession) -> Response:
    """Sign out: every session and API token of the user ends (a copy of the cookie is worthless)."""
    user = session_user(request, db)
    if user is not None:
        crud.end_sessions(db, user)
        crud.record_event(db, "logout", user=user, subject=user.username, client=client_address(request))
        db.commit()
    request.session.clear()
    return _redirect("/login")


@router.get("/account")
def account_form(request: Request, user: CurrentUser) -> Response:
    return render(request, "account.html", {})


@router.post("/account/password")
def change_password(request: Request, db: DbSession, settings: Settings, user: CurrentUser,
                    current_password: Annotated[str, Form(max_length=1000)],
                    new_password: Annotated[str, Form(max_length=1000)]) -> Response:
    """The user's own new password (the current one checked, throttled like sign-in): every other session and
    every API token of the user ends; this browser gets a fresh session."""
    client = client_address(request)
    try:
        sign_in(db, settings, user.username, current_password, client)
        crud.update_user(db, user, password=new_password)
    except TooManyAttemptsError:
        return render(request, "account.html", {"error_key": "too_many_attempts",
                                                "minutes": max(1, settings.login_window_s // 60)},
                      status_code=status.HTTP_429_TOO_MANY_REQUESTS)
    except WrongCredentialsError:
        return render(request, "account.html", {"error_key": "wrong_password"},
                      status_code=status.HTTP_401_UNAUTHORIZED)
    except CardioScreenError as exc:
        db.rollback()
        return render(request, "account.html", {"error_text": str(exc)}, status_code=status.HTTP_400_BAD_REQUEST)
    crud.record_event(db, "password_changed", user=user, subject=user.username, client=client)
    db.commit()
    start_session(request, user)
    flash(request, "password_changed")
    return _redirect(HOME_BY_ROLE[user.role])


@router.post("/language")
def set_language(request: Request, db: DbSession, lang: Annotated[str, Form()],
                 next_url: Annotated[str, Form(alias="next")] = "/") -> Response:
    if lang in LANGUAGES:
        user = session_user(request, db)
        if user is not None:
            crud.update_user(db, user, language=lang)
            db.commit()
        request.session["lang"] = lang
    return _redirect(safe_next(next_url))
