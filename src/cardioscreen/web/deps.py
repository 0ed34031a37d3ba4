"""Request dependencies: the database session, the signed-in user by role, the CSRF check, study access."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from cardioscreen.web import crud
from cardioscreen.web.models import Role, Study, User
from cardioscreen.web.security import CSRF_FORM_FIELD, CSRF_HEADER, csrf_valid
from cardioscreen.web.settings import WebSettings
from cardioscreen.web.storage import StudyStore

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequiredError(Exception):
    """No signed-in user on a page that needs one (pages redirect to the sign-in form)."""


class CSRFError(Exception):
    """A form or API call authenticated by cookie arrived without the session's CSRF token."""


def get_db(request: Request) -> Iterator[Session]:
    with request.app.state.session_factory() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db)]


def get_settings(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def get_store(request: Request) -> StudyStore:
    store: StudyStore = request.app.state.store
    return store


Settings = Annotated[WebSettings, Depends(get_settings)]
Store = Annotated[StudyStore, Depends(get_store)]


SEEN_RESOLUTION_S = 60
"""A session's last-seen time is written (re-signing the cookie) at most once a minute."""


def start_session(request: Request, user: User) -> None:
    """A fresh session for ``user`` (new CSRF token: no session fixation), in the user's current epoch, dated now."""
    now = int(time.time())
    request.session.clear()
    request.session.update({"user_id": user.id, "epoch": user.session_epoch, "issued": now, "seen": now})
    request.state.user = user


def session_user(request: Request, db: Session) -> User | None:
    """The signed-in user: an active user whose session epoch the cookie names, signed in less than
    ``session_max_age_s`` ago and seen less than ``session_idle_s`` ago (the cookie is signed with both dates, so
    renewing it cannot extend either). A session that fails this is emptied."""
    session = request.session
    values = [session.get(key) for key in ("user_id", "epoch", "issued", "seen")]
    if not all(isinstance(value, int) for value in values):
        return None
    user_id, epoch, issued, seen = cast(list[int], values)
    settings = request.app.state.settings
    now = int(time.time())
    user = crud.get_user(db, user_id)
    if (user is None or not user.is_active or user.session_epoch != epoch
            or not 0 <= now - issued < settings.session_max_age_s or not 0 <= now - seen < settings.session_idle_s):
        session.clear()
        return None
    if now - seen >= SEEN_RESOLUTION_S:
        session["seen"] = now
    request.state.user = user
    return user


def get_current_user(request: Request, db: DbSession) -> User:
    user = session_user(request, db)
    if user is None:
        raise LoginRequiredError
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def _require_role(user: User, role: Role) -> User:
    if user.role != role.value:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "forbidden")
    return user


def get_current_doctor(user: CurrentUser) -> User:
    return _require_role(user, Role.DOCTOR)


def get_current_admin(user: CurrentUser) -> User:
    return _require_role(user, Role.ADMIN)


CurrentDoctor = Annotated[User, Depends(get_current_doctor)]
CurrentAdmin = Annotated[User, Depends(get_current_admin)]


async def csrf_protect(request: Request) -> None:
    """Reject a form POST whose ``csrf_token`` field does not match the session's token."""
    if request.method in SAFE_METHODS:
        return
    form = await request.form()
    if not csrf_valid(request.session, form.get(CSRF_FORM_FIELD)):
        raise CSRFError


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/token", auto_error=False)


def get_api_user(request: Request, db: DbSession, token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """The API caller: a bearer token, or the browser session (then unsafe methods need the CSRF header)."""
    if token:
        user = crud.user_for_token(db, token)
        if user is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or expired token",
                                headers={"WWW-Authenticate": "Bearer"})
        request.state.user = user
        return user
    cookie_user = session_user(request, db)
    if cookie_user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "not authenticated", headers={"WWW-Authenticate": "Bearer"})
    if request.method not in SAFE_METHODS and not csrf_valid(request.session, request.headers.get(CSRF_HEADER)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"missing or wrong {CSRF_HEADER} header")
    return cookie_user


ApiUser = Annotated[User, Depends(get_api_user)]


def get_api_doctor(user: ApiUser) -> User:
    return _require_role(user, Role.DOCTOR)


def get_api_admin(user: ApiUser) -> User:
    return _require_role(user, Role.ADMIN)


ApiDoctor = Annotated[User, Depends(get_api_doctor)]
ApiAdmin = Annotated[User, Depends(get_api_admin)]


MAX_ID = 2**63 - 1
"""Largest id a database row can have (SQLite and PostgreSQL BIGINT); a larger number in a URL is no id at all."""


def visible_study(db: Session, study_id: int, user: User) -> Study:
    """The study if ``user`` may see it: its patient, or a doctor; 404 otherwise (existence is not revealed, and a
    number no row can have is not sent to the database)."""
    study = crud.get_study(db, study_id) if 0 < study_id <= MAX_ID else None
    if study is None or not (user.role == Role.DOCTOR.value or study.owner_id == user.id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "study not found")
    return study


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def record_view(request: Request, db: Session, user: User, action: str, study: Study, **detail: str) -> None:
    """Write to the audit log (and commit) that ``user`` opened ``study``'s page, plot, report or a file."""
    crud.record_event(db, action, user=user, subject=f"study:{study.id}", client=client_address(request),
                      detail=detail or None)
    db.commit()
